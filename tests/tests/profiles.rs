//! Profiles through the real server, on every backend, with the shipped
//! messenger core: a display name, an about line and a photo reach the
//! user's other device, their contacts and their groups' members, sealed
//! end to end (the server stores no name); a contact removed is not told
//! the new key and keeps seeing the profile as it was.

use courier_shared::client::chat::ChatId;
use courier_shared::client::messenger::PhotoChange;
use courier_shared::ids::UserId;
use courier_tests::secure::{SecureDevice, user_with_two_devices};
use courier_tests::{backends, spawn_app};
use std::time::Duration;

/// A stand-in JPEG: the core carries the bytes as they are.
const PHOTO: &[u8] = &[
    0xff, 0xd8, 0xff, 0xe0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0xff, 0xd9,
];

fn name_of(device: &SecureDevice, user: UserId) -> Option<String> {
    device.core.profile(user).map(|p| p.name.clone())
}

async fn until_named(device: &mut SecureDevice, user: UserId, name: &str) {
    device
        .until(|d| name_of(d, user).as_deref() == Some(name))
        .await;
}

#[tokio::test]
async fn profiles_reach_own_devices_contacts_and_groups_but_not_a_removed_contact() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let ws = app.ws_url();
        let (mut ana, mut ana2) = user_with_two_devices(&ws, "ana").await;
        let mut ben = SecureDevice::register(&ws, "ben").await;
        let mut cyd = SecureDevice::register(&ws, "cyd").await;
        let mut dee = SecureDevice::register(&ws, "dee").await;
        let me = ana.user();

        ana.core
            .set_profile(
                " Ana Lima ",
                "Hiking, mostly",
                PhotoChange::Set(PHOTO.to_vec()),
            )
            .await
            .expect("profile set");
        until_named(&mut ana2, me, "Ana Lima").await;
        let photo = ana2.core.photo(ChatId::User(me)).await.expect("stored");
        assert_eq!(
            photo.as_deref(),
            Some(PHOTO),
            "the other device has the photo"
        );

        ana.send_text(ben.user(), "hi ben").await;
        ana.send_text(cyd.user(), "hi cyd").await;
        until_named(&mut ben, me, "Ana Lima").await;
        until_named(&mut cyd, me, "Ana Lima").await;
        let seen = ben.core.profile(me).expect("known").clone();
        assert_eq!(seen.about, "Hiking, mostly");
        assert_eq!(
            ben.core
                .photo(ChatId::User(me))
                .await
                .expect("stored")
                .as_deref(),
            Some(PHOTO)
        );

        // A group member who never chatted with her one to one.
        let dee_id = dee.user();
        let group = ana.create_group("Trip", &[dee_id]).await;
        ana.send_to(ChatId::Group(group), "hello trip").await;
        until_named(&mut dee, me, "Ana Lima").await;

        // Ben stops being a contact: the next profile is not his to read.
        ana.core
            .set_contact(ben.user(), false)
            .await
            .expect("removed");
        ana.core
            .set_profile("Ana L.", "", PhotoChange::Remove)
            .await
            .expect("profile changed");
        until_named(&mut cyd, me, "Ana L.").await;
        until_named(&mut dee, me, "Ana L.").await;
        until_named(&mut ana2, me, "Ana L.").await;
        assert_eq!(
            cyd.core.photo(ChatId::User(me)).await.expect("stored"),
            None,
            "photo removed"
        );
        ben.run_for(Duration::from_secs(2)).await;
        assert_eq!(
            name_of(&ben, me).as_deref(),
            Some("Ana Lima"),
            "ben was not told"
        );

        // The server holds the profile only sealed.
        let sealed = app.store().await.profile(me).await.expect("read");
        let sealed = sealed.expect("stored");
        assert!(
            !sealed.windows(6).any(|w| w == b"Ana L."),
            "no name in the clear"
        );
        app.stop().await;
    }
}

/// In Chromium: Ana sets a name, an about line and a photo in the profile
/// editor; Ben's chat list and conversation header show them in place of
/// her username and initials, and still do after a reload; she sets a
/// group's photo for Ben too; her editor opens with what she saved.
#[tokio::test]
async fn a_profile_set_in_the_browser_shows_in_the_contacts_chat_list_and_header() {
    let Some((courier, url, [ana, ben])) = courier_tests::browser::chromium_pages().await else {
        return;
    };
    let photo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../public/icon-512.png")
        .canonicalize()
        .expect("the icon");
    let outcome: Result<(), String> = async {
        ana.register(&url, "ana").await?;
        ben.register(&url, "ben").await?;
        ana.start_chat("ben").await?;
        ana.send("hi ben").await?;
        ben.wait_text("button[data-chat] .chat-name", "ana", 30)
            .await?;

        ana.click("#profile-open").await?;
        ana.fill("#profile-name", "Ana Lima").await?;
        ana.fill("#profile-about", "Hiking, mostly").await?;
        ana.fill("#profile-photo", &photo.display().to_string())
            .await?;
        ana.wait_js(
            "const img = document.querySelector('#profile .avatar-photo');\
             return !!img && img.src.startsWith('data:image/jpeg');",
            "the photo's preview, as a JPEG",
        )
        .await?;
        ana.click("#profile-save").await?;

        let shows_profile = "const chat = document.querySelector('button[data-chat]');\
             const img = chat && chat.querySelector('img.avatar-photo');\
             return !!img && img.src.startsWith('data:image/jpeg') && img.naturalWidth === 256\
                 && chat.querySelector('.chat-name').textContent === 'Ana Lima';";
        ben.wait_js(shows_profile, "Ana's name and photo in the chat list")
            .await?;
        ben.click("button[data-chat]").await?;
        ben.wait_text("[data-peer-name]", "Ana Lima", 30).await?;
        ben.wait_text("[data-peer-about]", "Hiking, mostly", 30)
            .await?;
        if let Ok(dir) = std::env::var("COURIER_SCREENSHOTS") {
            ben.screenshot(&std::path::Path::new(&dir).join("profile.png"))
                .await?;
        }

        ben.reload().await?;
        ben.wait_js(shows_profile, "the profile kept across a reload")
            .await?;
        // A group photo, set from the members panel, for every member; a
        // group message shows Ana's display name as its sender.
        ana.click("#new-group-open").await?;
        ana.fill("#new-group-name", "Trip").await?;
        ana.fill("#new-group-members", "ben").await?;
        ana.click("#new-group").await?;
        ana.wait_text("[data-peer-name]", "Trip", 30).await?;
        ana.send("hello trip").await?;
        ana.click("#group-info-toggle").await?;
        ana.fill("#group-photo", &photo.display().to_string())
            .await?;
        ana.wait_text("li[data-system]", "You changed the group photo.", 30)
            .await?;
        ben.wait_text("button[data-group]", "Trip", 30).await?;
        ben.click("button[data-group]").await?;
        ben.wait_text("li[data-system]", "Ana Lima changed the group photo.", 30)
            .await?;
        ben.wait_text("li[data-outgoing='false'] .sender", "Ana Lima", 30)
            .await?;
        ben.wait_js(
            "const img = document.querySelector('button[data-group] img.avatar-photo');\
             return !!img && img.src.startsWith('data:image/jpeg');",
            "the group's photo in the chat list",
        )
        .await?;

        ana.reload().await?;
        ana.click("#profile-open").await?;
        ana.wait_js(
            "const name = document.getElementById('profile-name');\
             return !!name && name.value === 'Ana Lima'\
                 && document.getElementById('profile-about').value === 'Hiking, mostly';",
            "the editor opens with the saved profile",
        )
        .await?;
        Ok(())
    }
    .await;
    courier_tests::browser::close_all([("ana", ana), ("ben", ben)], outcome.is_err()).await;
    drop(courier);
    outcome.expect("profiles in the browser");
}

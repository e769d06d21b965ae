//! Writes the emoji set of the reaction picker as one compact text (a
//! line per emoji: group number, emoji, name), so that the lazily loaded
//! `emoji` module carries a few dozen kilobytes of text rather than the
//! `emojis` crate's tables with every skin tone and shortcode.

use std::fmt::Write;

fn main() {
    let mut text = String::new();
    let groups: Vec<emojis::Group> = emojis::Group::iter().collect();
    for emoji in emojis::iter() {
        let group = groups
            .iter()
            .position(|g| *g == emoji.group())
            .expect("every emoji is in a group");
        writeln!(text, "{group}\t{}\t{}", emoji.as_str(), emoji.name()).expect("a String");
    }
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("emoji.txt"), text).expect("OUT_DIR is writable");
    println!("cargo::rerun-if-changed=build.rs");
}

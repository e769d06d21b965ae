//! Reusable pieces of the pages.

pub mod chat_list;
pub mod connection_badge;
pub mod conversation;
pub mod emoji_picker;
pub mod gallery;
pub mod group_info;
pub mod media_view;
mod message_tools;
mod organise;
pub mod time;

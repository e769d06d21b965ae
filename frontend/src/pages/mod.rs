//! The pages: [`welcome`] (create or link an account), [`home`] (chats) and
//! [`devices`] (the account's devices and safety numbers).

pub mod devices;
pub mod home;
pub mod welcome;

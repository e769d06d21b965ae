//! The pages: [`welcome`] (create or link an account) and [`home`] (the
//! account, its devices, safety numbers and messages).

pub mod home;
pub mod welcome;

//! User attributes as a capability: who may write and read which attribute. Every path that
//! changes or shows a user's attributes goes through [`permissions`], so the rules live in
//! one place and a new path (federation mapping, triggers) cannot forget one of them.

pub mod permissions;

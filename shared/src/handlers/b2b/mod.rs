//! `/v1/b2b/...`: organizations, members, email magic links, org-scoped passwords, MFA (TOTP)
//! and member sessions. The rules Latch follows where Stytch leaves room are in docs/b2b.md.

pub mod directory;
pub mod magic_links;
pub mod migrate;
pub mod organizations;
pub mod passwords;
pub mod recovery_codes;
pub mod sessions;
pub mod totp;

//! The B2B half (docs/b2b.md, docs/reference/stytch-api.md §5 B1–B21, §6–§8): organizations and members, email magic
//! links, org-scoped passwords and resets, TOTP MFA with intermediate sessions, member sessions.
//! Seeds 002 (MFA) and 004 (magic-link signup, passwords) end to end; the organization boundary
//! under every cross-org attempt (docs/security.md J3, R4, R5).

mod cross_org;
mod exchange;
mod flows;
mod isolation;
mod mfa;
mod organizations;
mod recovery_codes;
mod restrictions;
mod secrets_at_rest;
mod sessions;

//! Leads: contact details from forms and chat, explained scores, storage and the outbox event.

pub mod contact;
pub mod score;
pub mod store;

//! Plans and what they allow (the plan is stored on the account; see `otoq_entities::enums::Plan`).

pub use otoq_entities::enums::Plan;

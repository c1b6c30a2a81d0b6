//! The black-box suite: every test spawns the real app (and, where it matters, real `otoq`
//! processes) against its own database and Redis key prefix, and talks HTTP.

mod suite;
mod support;

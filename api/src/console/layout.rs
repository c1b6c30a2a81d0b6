//! The console's page shell: head, navigation, the flash message and the CSRF token that htmx
//! sends with every request.

use maud::{DOCTYPE, Markup, html};

use super::assets;
use super::auth::Me;

/// The sections of the navigation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Agents,
    Conversations,
    Leads,
    Keys,
}

fn head(title: &str) -> Markup {
    html! {
        meta charset="utf-8";
        meta name="viewport" content="width=device-width, initial-scale=1";
        title { (title) " · otoq" }
        link rel="stylesheet" href=(assets::url("console.css"));
        script src=(assets::url("htmx.min.js")) defer {}
        script src=(assets::url("console.js")) defer {}
    }
}

/// A page without navigation (sign-in, errors).
pub fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head { (head(title)) }
            body { main { (body) } }
        }
    }
}

/// The error and notice of the query string, if any.
pub fn flash(q: &super::Form) -> Markup {
    html! {
        @if !q.get("error").is_empty() { div.alert role="alert" { (q.get("error")) } }
        @if !q.get("notice").is_empty() { div.notice role="status" { (q.get("notice")) } }
    }
}

/// The hidden CSRF field every form of a signed-in page carries.
pub fn csrf(me: &Me) -> Markup {
    html! { input type="hidden" name="_csrf" value=(me.signed.session.csrf_token); }
}

/// A signed-in page.
pub fn page(me: &Me, section: Section, title: &str, body: Markup) -> Markup {
    let cur = |s: Section| (s == section).then_some("page");
    let headers = format!(r#"{{"x-csrf-token": "{}"}}"#, me.signed.session.csrf_token);
    html! {
        (DOCTYPE)
        html lang="en" {
            head { (head(title)) }
            body hx-headers=(headers) {
                a.sr-only href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/" { "otoq" }
                    nav aria-label="Main" {
                        @if me.role().manages_agents() {
                            a href="/agents" aria-current=[cur(Section::Agents)] { "Agents" }
                        }
                        a href="/conversations" aria-current=[cur(Section::Conversations)] { "Conversations" }
                        a href="/leads" aria-current=[cur(Section::Leads)] { "Leads" }
                        @if me.role().manages_keys() {
                            a href="/settings/keys" aria-current=[cur(Section::Keys)] { "API keys" }
                        }
                        form method="post" action="/signout" {
                            (csrf(me))
                            button.link type="submit" { "Sign out (" (me.signed.member.email) ")" }
                        }
                    }
                }
                main #main { (body) }
            }
        }
    }
}

//! Which elements are site chrome rather than the page's own text: navigation, page
//! header and footer, cookie and newsletter boxes, buttons and form controls, hidden elements.

use scraper::ElementRef;
use scraper::node::Element;

const DROPPED_TAGS: &[&str] = &[
    "head", "script", "style", "noscript", "template", "svg", "nav", "aside", "form", "button",
    "iframe", "frame", "frameset", "object", "embed", "canvas", "video", "audio", "select",
    "textarea", "input", "dialog", "label", "option", "menu",
];
const DROPPED_ROLES: &[&str] = &[
    "navigation",
    "banner",
    "contentinfo",
    "search",
    "button",
    "menu",
    "menubar",
    "toolbar",
    "tablist",
    "dialog",
    "alertdialog",
    "complementary",
];
/// Words in an id or class that mark a (short) box as chrome: cookie and consent notices,
/// newsletter sign-ups, breadcrumbs, skip links and screen-reader-only labels.
const CHROME_WORDS: &[&str] = &[
    "cookie",
    "consent",
    "gdpr",
    "banner",
    "newsletter",
    "breadcrumb",
    "skip-link",
    "skip-to",
    "sr-only",
    "visually-hidden",
    "screen-reader",
];
/// A cookie notice is short; a long element that merely mentions "banner" in a class is content.
const CHROME_MAX_TEXT: usize = 3000;
/// A link styled as a button holds a label, not a passage.
const BUTTON_MAX_TEXT: usize = 60;

/// Whether `el` (not the content root) is navigation, chrome or hidden, and so not main text.
/// `in_content` says whether the walk started at a content element (`<main>`, an `<article>`).
pub(super) fn is_dropped(el: ElementRef<'_>, in_content: bool) -> bool {
    let v = el.value();
    let name = v.name();
    if DROPPED_TAGS.contains(&name) {
        return true;
    }
    // A page's header and footer are chrome; an article's own header and footer are content.
    if matches!(name, "header" | "footer") && !in_content && !inside_article(el) {
        return true;
    }
    if v.attr("hidden").is_some()
        || v.attr("aria-hidden")
            .is_some_and(|a| a.trim().eq_ignore_ascii_case("true"))
    {
        return true;
    }
    if let Some(role) = v.attr("role")
        && DROPPED_ROLES.contains(&role.trim().to_ascii_lowercase().as_str())
    {
        return true;
    }
    if let Some(style) = v.attr("style") {
        let style: String = style
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        if style.contains("display:none") || style.contains("visibility:hidden") {
            return true;
        }
    }
    if name == "a" && looks_like_button(v) && text_len_at_most(el, BUTTON_MAX_TEXT) {
        return true;
    }
    looks_like_chrome(v)
        && !matches!(name, "html" | "body" | "main")
        && text_len_at_most(el, CHROME_MAX_TEXT)
}

fn inside_article(el: ElementRef<'_>) -> bool {
    el.ancestors()
        .filter_map(ElementRef::wrap)
        .any(|a| matches!(a.value().name(), "article" | "main"))
}

fn class_and_id(v: &Element) -> (String, String) {
    (
        v.id().unwrap_or("").to_ascii_lowercase(),
        v.attr("class").unwrap_or("").to_ascii_lowercase(),
    )
}

fn looks_like_chrome(v: &Element) -> bool {
    let (id, classes) = class_and_id(v);
    CHROME_WORDS
        .iter()
        .any(|w| id.contains(w) || classes.contains(w))
}

/// `class="btn"`, `class="button primary"`, `class="add-to-cart"`…
fn looks_like_button(v: &Element) -> bool {
    let (_, classes) = class_and_id(v);
    classes.split_whitespace().any(|c| {
        c == "btn" || c.starts_with("btn-") || c.contains("button") || c.contains("add-to-cart")
    })
}

fn text_len_at_most(el: ElementRef<'_>, max: usize) -> bool {
    let mut len = 0;
    for t in el.text() {
        len += t.len();
        if len > max {
            return false;
        }
    }
    true
}

/// Call-to-action labels that say nothing on their own ("Add to cart", "Read more").
const LABELS: &[&str] = &[
    "add to cart",
    "add to bag",
    "add to basket",
    "add to wishlist",
    "buy now",
    "shop now",
    "order now",
    "learn more",
    "read more",
    "see more",
    "show more",
    "view all",
    "see all",
    "view details",
    "view product",
    "continue shopping",
    "checkout",
    "check out",
    "subscribe",
    "sign up",
    "sign in",
    "log in",
    "login",
    "register",
    "my account",
    "cart",
    "wishlist",
    "back to top",
    "skip to content",
    "skip to main content",
    "menu",
    "close",
    "accept",
    "accept all",
    "decline",
    "reject all",
    "share",
    "print",
    "next",
    "previous",
    "quick view",
    "select options",
    "choose options",
];

/// Whether a line of text is only a button or link label, never a passage by itself.
pub(super) fn is_bare_label(line: &str) -> bool {
    let core = line
        .trim()
        .trim_start_matches(['-', '*', '•'])
        .trim_matches(|c: char| c.is_whitespace() || "→←›»«‹>< .!:".contains(c))
        .to_lowercase();
    !core.is_empty() && LABELS.contains(&core.as_str())
}

//! The links a page offers to follow, its base URL and its robots directives.

use std::collections::HashSet;

use scraper::{ElementRef, Html};
use url::Url;

use super::{limit, selector};

pub(super) fn document_base(dom: &Html, fetched_from: &Url) -> Url {
    dom.select(&selector("base[href]"))
        .next()
        .and_then(|b| fetched_from.join(b.attr("href")?.trim()).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .unwrap_or_else(|| fetched_from.clone())
}

#[derive(Default)]
pub(super) struct Links {
    pub(super) urls: Vec<Url>,
    seen: HashSet<String>,
}

impl Links {
    /// Harvests links under `root` in document order; `<noscript>` text is parsed as HTML once.
    pub(super) fn collect(&mut self, root: ElementRef<'_>, base: &Url, noscript_depth: usize) {
        for el_ref in root.descendent_elements() {
            let el = el_ref.value();
            match el.name() {
                "a" | "area" => self.add(base, el.attr("href")),
                "iframe" | "frame" => self.add(base, el.attr("src")),
                "link" => {
                    let rel = el.attr("rel").unwrap_or("").to_ascii_lowercase();
                    if rel.split_whitespace().any(|r| r == "next" || r == "prev") {
                        self.add(base, el.attr("href"));
                    }
                }
                // With scripting on (as in browsers), the parser keeps noscript content as text.
                "noscript" if noscript_depth == 0 => {
                    let inner: String = el_ref
                        .children()
                        .filter_map(|c| c.value().as_text().map(|t| t.to_string()))
                        .collect();
                    if !inner.trim().is_empty() {
                        let fragment = Html::parse_fragment(&limit::limit_nesting(&inner));
                        self.collect(fragment.root_element(), base, noscript_depth + 1);
                    }
                }
                _ => {}
            }
        }
    }

    fn add(&mut self, base: &Url, href: Option<&str>) {
        let Some(href) = href.map(str::trim).filter(|h| !h.is_empty()) else {
            return;
        };
        let Ok(mut url) = base.join(href) else { return };
        if !matches!(url.scheme(), "http" | "https") {
            return;
        }
        url.set_fragment(None);
        if self.seen.insert(url.as_str().to_string()) {
            self.urls.push(url);
        }
    }
}

/// (noindex, nofollow) from `<meta name="robots">` (or our own `<meta name="otoqbot">`).
pub(super) fn robots_directives(dom: &Html) -> (bool, bool) {
    let (mut noindex, mut nofollow) = (false, false);
    for meta in dom.select(&selector("meta[name][content]")) {
        let name = meta.attr("name").unwrap_or("").trim().to_ascii_lowercase();
        if name != "robots" && name != "otoqbot" {
            continue;
        }
        for directive in meta.attr("content").unwrap_or("").split(',') {
            match directive.trim().to_ascii_lowercase().as_str() {
                "noindex" => noindex = true,
                "nofollow" => nofollow = true,
                "none" => (noindex, nofollow) = (true, true),
                _ => {}
            }
        }
    }
    (noindex, nofollow)
}

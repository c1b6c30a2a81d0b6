//! Tests of passages that keep their meaning: tables, FAQs, chrome, site-wide repetition.

use super::*;

fn page(html: &str) -> HtmlPage {
    extract_html(html, &Url::parse("https://shop.example/").unwrap())
}

fn all_text(page: &HtmlPage) -> String {
    page.doc
        .sections
        .iter()
        .map(|s| format!("{:?}\n{}", s.heading_path, s.text))
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn text_of<'a>(page: &'a HtmlPage, path: &[&str]) -> &'a str {
    &page
        .doc
        .sections
        .iter()
        .find(|s| s.heading_path == path)
        .unwrap_or_else(|| panic!("no section {path:?} in {:#?}", page.doc.sections))
        .text
}

#[test]
fn table_rows_carry_their_column_headers_and_caption() {
    let p = page(
        r#"<title>Shipping</title><h1>Shipping</h1>
        <table><caption>Shipping rates</caption>
          <thead><tr><th>Zone</th><th>Standard</th><th>Express</th><th>Delivery</th></tr></thead>
          <tbody><tr><td>Canada</td><td>$12</td><td>$25</td><td>4–7 business days</td></tr>
          <tr><td>United States</td><td>$8</td><td></td><td>3–5 business days</td></tr></tbody>
        </table>"#,
    );
    assert_eq!(
        text_of(&p, &[]),
        "Shipping rates — Zone: Canada; Standard: $12; Express: $25; Delivery: 4–7 business days\n\
         Shipping rates — Zone: United States; Standard: $8; Delivery: 3–5 business days"
    );
}

#[test]
fn table_without_caption_takes_the_nearest_heading_and_no_header_row_stands_alone() {
    let p = page(
        r#"<h1>Rewards</h1><p>Earn points.</p><h2>Loyalty tiers</h2>
        <table><tr><th>Tier</th><th>Points</th><th>Perks</th></tr>
        <tr><td>Silver</td><td>500</td><td>Free shipping</td></tr>
        <tr><td>Gold</td><td>1500</td><td>Free shipping, early access</td></tr></table>"#,
    );
    let text = text_of(&p, &["Loyalty tiers"]);
    assert_eq!(
        text,
        "Loyalty tiers — Tier: Silver; Points: 500; Perks: Free shipping\n\
         Loyalty tiers — Tier: Gold; Points: 1500; Perks: Free shipping, early access"
    );
    assert!(!all_text(&p).contains("Tier | Points"), "{}", all_text(&p));
    // A table that is only a header row says nothing.
    let p = page("<h2>Sizes</h2><p>See below.</p><table><tr><th>S</th><th>M</th></tr></table>");
    assert_eq!(text_of(&p, &["Sizes"]), "See below.");
}

#[test]
fn row_headers_colspans_and_group_rows_are_kept() {
    let p = page(
        r#"<h2>Plans</h2><table>
        <tr><td></td><th>Basic</th><th>Pro</th></tr>
        <tr><th scope="row">Price</th><td>$10</td><td>$20</td></tr>
        <tr><th colspan="3">Support</th></tr>
        <tr><th scope="row">Email</th><td colspan="2">Included</td></tr>
        </table>
        <h2>Specs</h2><table><tr><th>Weight</th><td>2 kg</td></tr><tr><th>Colour</th><td>Red</td></tr></table>"#,
    );
    assert_eq!(
        text_of(&p, &["Plans"]),
        "Plans — Price; Basic: $10; Pro: $20\nPlans — Support — Email; Basic: Included"
    );
    assert_eq!(
        text_of(&p, &["Specs"]),
        "Specs — Weight: 2 kg\nSpecs — Colour: Red"
    );
}

#[test]
fn headerless_data_tables_get_their_heading_and_wide_tables_stay_bounded() {
    let p = page(
        "<h2>Store hours</h2><table><tr><td>Mon–Fri</td><td>9:00–18:00</td></tr>\
         <tr><td>Sunday</td><td>closed</td></tr></table>",
    );
    assert_eq!(
        text_of(&p, &["Store hours"]),
        "Store hours — Mon–Fri; 9:00–18:00\nStore hours — Sunday; closed"
    );
    let head: String = (0..200)
        .map(|i| format!("<th>{}{i}</th>", "h".repeat(300)))
        .collect();
    let row: String = (0..200).map(|i| format!("<td>v{i}</td>")).collect();
    let p = page(&format!(
        "<h2>Wide</h2><table><tr>{head}</tr><tr>{row}</tr></table>"
    ));
    let line = text_of(&p, &["Wide"]);
    // 24 labels of at most 80 characters, the other cells unlabelled.
    assert!(line.len() < 24 * 90 + 200 * 6 + 20, "{}", line.len());
    assert!(
        line.contains("v23; v24; v25") && line.ends_with("v199"),
        "{line}"
    );
    let rows = "<tr><td>a</td><td>b</td></tr>".repeat(2100);
    let p = page(&format!(
        "<h2>Long</h2><table><tr><th>X</th><th>Y</th></tr>{rows}</table>"
    ));
    let text = text_of(&p, &["Long"]);
    assert_eq!(text.lines().count(), 2100);
    assert_eq!(text.lines().next(), Some("Long — X: a; Y: b"));
    assert_eq!(
        text.lines().last(),
        Some("a | b"),
        "rows past the limit are plain"
    );
}

#[test]
fn details_faq_keeps_each_answer_whole_under_its_question() {
    let p = page(
        r#"<h1>FAQ</h1>
        <details><summary>Do you offer student discounts?</summary>
          <p>Yes.</p><p>Students get 15% off with a valid student ID.</p></details>
        <details><summary><h3>Can I return sale items?</h3></summary>
          <p>Sale items can be exchanged within 14 days, but not refunded.</p></details>
        <p>Still stuck? Write to us.</p>"#,
    );
    assert_eq!(
        text_of(&p, &["Do you offer student discounts?"]),
        "Yes.\n\nStudents get 15% off with a valid student ID."
    );
    assert_eq!(
        text_of(&p, &["Can I return sale items?"]),
        "Sale items can be exchanged within 14 days, but not refunded."
    );
    // After the last answer, text is under the page's headings again (the h1 is the title).
    assert_eq!(text_of(&p, &[]), "Still stuck? Write to us.");
}

#[test]
fn definition_list_faq_and_terms() {
    let p = page(
        r#"<h2>Questions</h2><dl>
        <dt>How long does shipping take?</dt><dd><p>Usually 3–5 days.</p><p>Express: next day.</p></dd>
        <dt>Do you ship abroad?</dt><dd>To Canada and the EU.</dd></dl>
        <h2>Details</h2><dl><dt>Material</dt><dd>100% linen</dd><dt>Care</dt><dd>Wash at 30°C</dd></dl>"#,
    );
    assert_eq!(
        text_of(&p, &["Questions", "How long does shipping take?"]),
        "Usually 3–5 days.\n\nExpress: next day."
    );
    assert_eq!(
        text_of(&p, &["Questions", "Do you ship abroad?"]),
        "To Canada and the EU."
    );
    assert_eq!(
        text_of(&p, &["Details"]),
        "Material: 100% linen\n\nCare: Wash at 30°C"
    );
}

#[test]
fn question_paragraphs_head_their_answers() {
    let p = page(
        r#"<h1>Help</h1>
        <p><strong>Q: Do you gift wrap?</strong></p><p>Yes, for $4.</p><p>Add a note at checkout.</p>
        <p><b>Can I pick up in store?</b></p><p>Yes, at both stores, after 2 hours.</p>
        <h2>Returns</h2><p>Returns are free. Any questions?</p>"#,
    );
    assert_eq!(
        text_of(&p, &["Do you gift wrap?"]),
        "Yes, for $4.\n\nAdd a note at checkout."
    );
    assert_eq!(
        text_of(&p, &["Can I pick up in store?"]),
        "Yes, at both stores, after 2 hours."
    );
    // A paragraph that only ends in a question stays a paragraph.
    assert_eq!(
        text_of(&p, &["Returns"]),
        "Returns are free. Any questions?"
    );
}

#[test]
fn structured_faq_data_adds_the_questions_the_page_text_lacks() {
    let p = page(
        r#"<html><head><script type="application/ld+json">
        {"@context":"https://schema.org","@graph":[{"@type":"FAQPage","mainEntity":[
          {"@type":"Question","name":"Do you ship to Canada?","acceptedAnswer":{"@type":"Answer","text":"<p>Yes, for <b>$12</b>.</p>"}},
          {"@type":"Question","name":"Is gift wrap free?","acceptedAnswer":{"@type":"Answer","text":"It costs $4."}}]}]}
        </script></head><body><h2>Do you ship to Canada?</h2><p>Yes, for $12.</p></body></html>"#,
    );
    assert_eq!(p.doc.sections.len(), 2, "{:#?}", p.doc.sections);
    assert_eq!(text_of(&p, &["Do you ship to Canada?"]), "Yes, for $12.");
    assert_eq!(text_of(&p, &["Is gift wrap free?"]), "It costs $4.");
    let broken = page(
        r#"<script type="application/ld+json">{"@type":"FAQPage","mainEntity":</script><p>x</p>"#,
    );
    assert_eq!(broken.doc.sections.len(), 1);
}

#[test]
fn chrome_buttons_and_consent_boxes_are_left_out() {
    let p = page(
        r#"<body>
        <div role="banner">Banner role text</div>
        <header class="site-header">Site header text</header>
        <div class="cookie-consent"><p>We use cookies to improve your experience.</p><a class="btn">Accept all</a></div>
        <nav class="breadcrumbs">Home › Shirts</nav>
        <main>
        <h1>Linen shirt</h1>
        <p>Breathable linen, cut loose.</p>
        <a class="btn btn-primary" href="/cart">Add to cart</a>
        <p><a href="/more">Read more</a></p>
        <span role="button">Choose size</span>
        <div class="newsletter"><h3>Join our newsletter</h3><p>News in your inbox.</p></div>
        <article><header><p>Posted by Ann</p></header><p>Article body.</p><footer><p>Tagged: linen</p></footer></article>
        <p>Add to cart</p>
        </main>
        <div role="contentinfo">Contentinfo text</div>
        <footer>Page footer text</footer>
        </body>"#,
    );
    let text = all_text(&p);
    for kept in [
        "Breathable linen",
        "Posted by Ann",
        "Article body.",
        "Tagged: linen",
    ] {
        assert!(text.contains(kept), "{kept:?} missing from {text}");
    }
    for gone in [
        "Banner role",
        "Site header",
        "cookies",
        "Accept",
        "newsletter",
        "News in",
        "Home ›",
        "Add to cart",
        "Read more",
        "Choose size",
        "Contentinfo",
        "Page footer",
    ] {
        assert!(!text.contains(gone), "{gone:?} leaked into {text}");
    }
}

#[test]
fn lines_exclude_preformatted_text() {
    let p = page("<h2>Code</h2><p>Run it:</p><pre>fn main() {\n}</pre><ul><li>One</li></ul>");
    assert_eq!(p.lines, ["Run it:", "- One"]);
}

mod site_repetition {
    use super::*;
    use crate::extract::html::repeated::Repetition;

    fn shop_page(path: &str, body: &str) -> (String, HtmlPage) {
        let html = format!(
            r#"<body><div class="top">Free shipping on orders over $50</div>
            <div class="menu"><a href="/">Home</a> <a href="/shop">Shop</a> <a href="/faq">FAQ</a></div>
            <div class="content"><h1>{path}</h1>{body}</div>
            <div class="bottom"><p>Acme Goods</p><p>Subscribe for news</p></div></body>"#
        );
        let url = format!("https://shop.example{path}");
        let page = extract_html(&html, &Url::parse(&url).unwrap());
        (url, page)
    }

    #[test]
    fn lines_on_most_pages_go_and_informative_ones_stay_once() {
        let mut pages: Vec<(String, HtmlPage)> =
            ["/", "/returns", "/shipping", "/stores", "/about"]
                .iter()
                .map(|p| shop_page(p, &format!("<p>Only on {p}.</p>")))
                .collect();
        let mut repetition = Repetition::default();
        // The order pages arrive in does not matter.
        for (url, page) in pages.iter().rev() {
            repetition.add(url, &page.lines);
        }
        let repeated = repetition.repeated();
        for (url, page) in &mut pages {
            repeated.strip(url, &mut page.doc, &page.lines);
        }
        let home = all_text(&pages[0].1);
        assert!(home.contains("Only on /."), "{home}");
        assert!(home.contains("Free shipping on orders over $50"), "{home}");
        assert!(!home.contains("Home Shop FAQ"), "{home}");
        assert!(!home.contains("Acme Goods"), "{home}");
        for (_, page) in &pages[1..] {
            let text = all_text(page);
            assert!(text.contains("Only on /"), "{text}");
            for gone in ["Free shipping", "Home Shop FAQ", "Acme Goods", "Subscribe"] {
                assert!(!text.contains(gone), "{gone:?} in {text}");
            }
        }
    }

    #[test]
    fn small_sites_and_rare_lines_are_untouched() {
        let pages: Vec<(String, HtmlPage)> = ["/", "/a"]
            .iter()
            .map(|p| shop_page(p, "<p>Same sentence on two pages.</p>"))
            .collect();
        let mut repetition = Repetition::default();
        for (url, page) in &pages {
            repetition.add(url, &page.lines);
        }
        assert!(repetition.repeated().is_empty());
    }
}

//! Tests of `text`.

use super::*;

fn path(p: &[&str]) -> Vec<String> {
    p.iter().map(|s| s.to_string()).collect()
}

fn section(p: &[&str], text: &str) -> Section {
    Section {
        heading_path: path(p),
        text: text.to_string(),
    }
}

#[test]
fn plain_text_paragraphs() {
    let doc = extract_text(
        "\u{feff}First line\r\nsecond\tline  \r\n\r\n \t \r\nNext para\n\n\n",
        " notes.txt ",
    );
    assert_eq!(doc.title, "notes.txt");
    assert_eq!(
        doc.sections,
        vec![
            section(&[], "First line\nsecond line"),
            section(&[], "Next para")
        ]
    );
    assert_eq!(doc.partial, None);
}

#[test]
fn plain_text_empty() {
    assert!(extract_text("", "t").sections.is_empty());
    assert!(extract_text("\u{feff}\n \n\t\n", "t").sections.is_empty());
}

#[test]
fn first_h1_is_the_title_and_paths_follow_levels() {
    let md = "# Product Guide\n\nIntro text.\n\n## Installation\n\nRun it.\n\n### On Linux ###\n\nUse apt.\n\n## Usage\n\nClick.\n";
    let doc = extract_markdown(md, "guide.md");
    assert_eq!(doc.title, "Product Guide");
    assert_eq!(
        doc.sections,
        vec![
            section(&[], "Intro text."),
            section(&["Installation"], "Run it."),
            section(&["Installation", "On Linux"], "Use apt."),
            section(&["Usage"], "Click."),
        ]
    );
}

#[test]
fn without_leading_h1_the_given_title_is_kept() {
    let md = "Preamble.\n\n## Setup\n\nSteps.\n\n# Part Two\n\n## Details\n\nMore.";
    let doc = extract_markdown(md, "file.md");
    assert_eq!(doc.title, "file.md");
    assert_eq!(
        doc.sections,
        vec![
            section(&[], "Preamble."),
            section(&["Setup"], "Steps."),
            section(&["Part Two", "Details"], "More."),
        ]
    );
}

#[test]
fn setext_headings() {
    let md =
        "Title Here\n==========\n\nIntro.\n\nSection A\n---------\n\nBody A.\n\n---\n\nStill A.";
    let doc = extract_markdown(md, "x");
    assert_eq!(doc.title, "Title Here");
    assert_eq!(
        doc.sections,
        vec![
            section(&[], "Intro."),
            section(&["Section A"], "Body A.\n\nStill A.")
        ]
    );
}

#[test]
fn code_fences_are_verbatim_and_hide_headings() {
    let md = "## Build\n\n```sh\n# not a heading\nmake  *all*\n\n[x](y)\n```\n\nAfter.\n\n~~~\n## nope\n~~~";
    let doc = extract_markdown(md, "t");
    assert_eq!(doc.sections.len(), 1);
    assert_eq!(doc.sections[0].heading_path, path(&["Build"]));
    assert_eq!(
        doc.sections[0].text,
        "```sh\n# not a heading\nmake  *all*\n\n[x](y)\n```\n\nAfter.\n\n~~~\n## nope\n~~~"
    );
}

#[test]
fn unclosed_fence_runs_to_the_end() {
    let doc = extract_markdown("Text\n```\n# code\n", "t");
    assert_eq!(doc.sections, vec![section(&[], "Text\n\n```\n# code")]);
}

#[test]
fn inline_markup_is_removed() {
    let md = "See [the docs](https://x.y/a_(b)) and ![a logo](logo.png \"t\").\n\
                  **Bold**, *it*, __under__, _em_, ~~gone~~ and `code_*span*`.\n\
                  snake_case_name, 2 * 3, \\*literal\\*, <https://ex.com/x> [ref link][r] [plain].\n\
                  [r]: https://example.com\n\
                  - [ ] task";
    let doc = extract_markdown(md, "t");
    assert_eq!(
        doc.sections[0].text,
        "See the docs and a logo.\n\
             Bold, it, under, em, gone and `code_*span*`.\n\
             snake_case_name, 2 * 3, *literal*, https://ex.com/x ref link [plain].\n\
             - [ ] task"
    );
}

#[test]
fn comments_are_removed() {
    let md = "Before <!-- hidden --> after.\n<!-- a\n# not heading\n-->\nSame para.\n\n<!-- x -->\n## Real\nBody";
    let doc = extract_markdown(md, "t");
    assert_eq!(
        doc.sections,
        vec![
            section(&[], "Before  after.\nSame para."),
            section(&["Real"], "Body")
        ]
    );
}

#[test]
fn tables_are_kept_as_lines() {
    let md = "## Prices\n\n| Plan | Price |\n|:-----|------:|\n| [Pro](/pro) | $10 |\n";
    let doc = extract_markdown(md, "t");
    assert_eq!(
        doc.sections,
        vec![section(&["Prices"], "| Plan | Price |\n| Pro | $10 |")]
    );
}

#[test]
fn crlf_bom_tabs_quotes_and_front_matter() {
    let md = "\u{feff}---\r\ntitle: ignored\r\n---\r\n# Doc\r\n\r\n> Quoted\tline\r\n\r\n##\tTabbed ##\r\nx\r\n";
    let doc = extract_markdown(md, "t");
    assert_eq!(doc.title, "Doc");
    assert_eq!(
        doc.sections,
        vec![section(&[], "Quoted    line"), section(&["Tabbed"], "x")]
    );
}

#[test]
fn heading_edge_cases() {
    let doc = extract_markdown("#NotHeading\n\n####### seven\n\n## \n\nText", "t");
    assert_eq!(doc.title, "t");
    assert_eq!(
        doc.sections,
        vec![section(&[], "#NotHeading\n\n####### seven\n\nText")]
    );
    assert_eq!(atx_heading("## C# ##"), Some((2, "C#".to_string())));
    assert_eq!(atx_heading("# #"), Some((1, String::new())));
}

#[test]
fn random_markup_never_panics() {
    let alphabet: Vec<char> = "#=-*_~`[]()!<>\\|: \t\r\naé日\u{feff}".chars().collect();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..3000 {
        let len = (seed % 40) as usize;
        let s: String = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                alphabet[(seed % alphabet.len() as u64) as usize]
            })
            .collect();
        let doc = extract_markdown(&s, "t");
        assert!(
            doc.sections.iter().all(|s| !s.text.trim().is_empty()),
            "{s:?}"
        );
        let _ = extract_text(&s, "t");
    }
}

#[test]
fn empty_markdown_and_odd_input_do_not_panic() {
    assert!(extract_markdown("", "t").sections.is_empty());
    for s in [
        "[", "![", "[a](", "<", "`", "**", "\\", "[a][", "<!--", "]([)", "é*_~`<[", "# ", "```",
    ] {
        let _ = extract_markdown(s, "t");
    }
}

//! Tables: each row becomes one line that carries its column headers and the table's caption
//! (or the nearest heading), e.g. "Shipping rates — Zone: Canada; Standard: $12". A header row
//! is never a line of its own.

/// Columns that get header labels; cells further right are kept, unlabelled.
const MAX_COLUMNS: usize = 24;
/// A header label longer than this is cut (it is repeated on every row).
const MAX_LABEL_CHARS: usize = 80;
/// Rows that get header labels; a longer table's further rows are kept as plain `a | b` lines.
const MAX_LABELLED_ROWS: usize = 2000;

#[derive(Debug, Default)]
struct Cell {
    text: String,
    header: bool,
    span: usize,
}

#[derive(Debug, Default)]
struct Row {
    cells: Vec<Cell>,
    /// In `<thead>`.
    head: bool,
}

impl Row {
    fn filled(&self) -> impl Iterator<Item = &Cell> {
        self.cells.iter().filter(|c| !c.text.is_empty())
    }

    fn all_headers(&self) -> bool {
        self.filled().all(|c| c.header)
    }

    fn plain(&self) -> String {
        self.filled()
            .map(|c| c.text.as_str())
            .collect::<Vec<_>>()
            .join(" | ")
    }
}

/// A table being read, then rendered as lines when it closes.
#[derive(Debug, Default)]
pub(super) struct Table {
    caption: String,
    in_caption: bool,
    in_head: bool,
    rows: Vec<Row>,
    row: Option<Row>,
    cell: Option<Cell>,
    /// A nested table or a heading inside a cell: the table lays out the page, it holds no data.
    pub(super) layout: bool,
}

impl Table {
    /// Where text goes now: the caption or the open cell (text elsewhere in a table is space).
    pub(super) fn sink(&mut self) -> Option<&mut String> {
        if self.in_caption {
            Some(&mut self.caption)
        } else {
            self.cell.as_mut().map(|c| &mut c.text)
        }
    }

    pub(super) fn open_caption(&mut self) {
        self.in_caption = self.row.is_none();
    }

    pub(super) fn close_caption(&mut self) {
        self.in_caption = false;
    }

    pub(super) fn set_head(&mut self, head: bool) {
        self.in_head = head;
    }

    pub(super) fn open_row(&mut self) {
        self.close_row();
        self.row = Some(Row {
            cells: Vec::new(),
            head: self.in_head,
        });
    }

    pub(super) fn open_cell(&mut self, header: bool, colspan: Option<&str>) {
        self.close_cell();
        if self.row.is_none() {
            self.open_row();
        }
        let span = colspan
            .and_then(|s| s.trim().parse::<usize>().ok())
            .unwrap_or(1)
            .clamp(1, MAX_COLUMNS);
        self.cell = Some(Cell {
            text: String::new(),
            header,
            span,
        });
    }

    pub(super) fn close_cell(&mut self) {
        if let Some(mut cell) = self.cell.take() {
            cell.text = cell.text.trim().to_string();
            if let Some(row) = &mut self.row {
                row.cells.push(cell);
            }
        }
    }

    pub(super) fn close_row(&mut self) {
        self.close_cell();
        if let Some(row) = self.row.take()
            && row.filled().next().is_some()
        {
            self.rows.push(row);
        }
    }

    /// The whole table on one line, for a table nested in another's cell.
    pub(super) fn plain(mut self) -> String {
        self.close_row();
        self.rows
            .iter()
            .map(Row::plain)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// One line per data row; `heading` is the nearest heading, used when there is no caption.
    pub(super) fn lines(mut self, heading: Option<&str>) -> Vec<String> {
        self.close_row();
        if self.layout {
            return self.rows.iter().map(Row::plain).collect();
        }
        let mut rows = std::mem::take(&mut self.rows);
        let mut title = None;
        // A first row with a single cell across several columns is the table's title.
        if rows.len() > 1
            && rows[0].cells.len() == 1
            && (rows[0].cells[0].span > 1 || rows[1].cells.len() > 1)
        {
            title = rows.remove(0).filled().next().map(|c| c.text.clone());
        }
        let mut head = rows.iter().take_while(|r| r.head).count();
        if head == 0 {
            head = rows.iter().take_while(|r| r.all_headers()).count();
            if head == rows.len() && rows.len() > 1 {
                // Every cell a <th>: the first row labels the others.
                head = 1;
            }
        }
        let body = rows.split_off(head);
        let mut labels = column_labels(&rows);
        let caption = super::normalise(&self.caption);
        let context = [Some(caption.as_str()), title.as_deref(), heading]
            .into_iter()
            .flatten()
            .find(|c| !c.is_empty())
            .map(str::to_string);
        let mut group: Option<String> = None;
        let mut out = Vec::new();
        for (i, row) in body.iter().enumerate() {
            let filled: Vec<&Cell> = row.filled().collect();
            if row.all_headers() && filled.len() == 1 && row.cells.len() == 1 {
                // A row across the table naming the group of rows below it.
                group = Some(filled[0].text.clone());
                continue;
            }
            if row.all_headers() && filled.len() > 1 && i + 1 < body.len() {
                // The header row repeated (or a new one) part-way down.
                labels = column_labels(std::slice::from_ref(row));
                continue;
            }
            if i >= MAX_LABELLED_ROWS {
                out.push(row.plain());
                continue;
            }
            out.push(render_row(
                row,
                &labels,
                context.as_deref(),
                group.as_deref(),
            ));
        }
        out
    }
}

/// The label of each column: the header rows' texts over it, colspans spread out.
fn column_labels(header_rows: &[Row]) -> Vec<String> {
    let mut labels: Vec<String> = Vec::new();
    for row in header_rows {
        let mut pos = 0;
        for cell in &row.cells {
            for _ in 0..cell.span {
                if pos >= MAX_COLUMNS {
                    break;
                }
                if labels.len() <= pos {
                    labels.resize(pos + 1, String::new());
                }
                let label = &mut labels[pos];
                if !cell.text.is_empty() && !label.ends_with(cell.text.as_str()) {
                    if !label.is_empty() {
                        label.push(' ');
                    }
                    label.push_str(&cell.text);
                }
                pos += 1;
            }
        }
    }
    for label in &mut labels {
        if let Some((cut, _)) = label.char_indices().nth(MAX_LABEL_CHARS) {
            label.truncate(cut);
            label.push('…');
        }
    }
    labels
}

fn render_row(row: &Row, labels: &[String], context: Option<&str>, group: Option<&str>) -> String {
    let filled: Vec<&Cell> = row.filled().collect();
    let mut parts = Vec::new();
    let mut pos = 0;
    for cell in &row.cells {
        let label = labels.get(pos).filter(|l| !l.is_empty());
        pos += cell.span;
        if cell.text.is_empty() {
            continue;
        }
        parts.push(match label {
            Some(l) if !l.eq_ignore_ascii_case(&cell.text) => format!("{l}: {}", cell.text),
            _ => cell.text.clone(),
        });
    }
    let labelled = labels.iter().any(|l| !l.is_empty());
    let body = if !labelled && filled.len() > 1 && filled[0].header {
        // A row header without column headers: "Weight: 2 kg".
        format!("{}: {}", parts[0], parts[1..].join("; "))
    } else if !labelled && context.is_none() && group.is_none() {
        return row.plain();
    } else if !labelled && filled.len() < 2 {
        // A one-column table is a list, not data to label.
        return row.plain();
    } else {
        parts.join("; ")
    };
    let mut line = String::new();
    for c in [context, group].into_iter().flatten() {
        line.push_str(c);
        line.push_str(" — ");
    }
    line.push_str(&body);
    line
}

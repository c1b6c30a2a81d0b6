//! The requested cost of an Admin GraphQL query by Shopify's published rules, computed from
//! the query text (independently of otoq's code): an object 1 point, a connection 2 plus its
//! size (`first`/`last`) times one node, a list by ids its length times one node; scalars,
//! enums and `pageInfo` free.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    Var(String),
    Num(u64),
    Str,
    Punct(char),
    Spread,
}

fn tokens(q: &str) -> Vec<Tok> {
    let c: Vec<char> = q.chars().collect();
    let (mut i, mut out) = (0, Vec::new());
    while i < c.len() {
        let ch = c[i];
        if ch.is_whitespace() || ch == ',' {
            i += 1;
        } else if ch == '.' {
            i += 3;
            out.push(Tok::Spread);
        } else if ch == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push(Tok::Str);
        } else if ch == '$' || ch.is_alphabetic() || ch == '_' {
            let var = ch == '$';
            let start = if var { i + 1 } else { i };
            i = start;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            let name: String = c[start..i].iter().collect();
            out.push(if var { Tok::Var(name) } else { Tok::Name(name) });
        } else if ch.is_ascii_digit() {
            let start = i;
            while i < c.len() && c[i].is_ascii_digit() {
                i += 1;
            }
            out.push(Tok::Num(
                c[start..i].iter().collect::<String>().parse().unwrap(),
            ));
        } else {
            out.push(Tok::Punct(ch));
            i += 1;
        }
    }
    out
}

struct Parser<'a> {
    t: Vec<Tok>,
    i: usize,
    vars: &'a Value,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.t.get(self.i)
    }

    /// The size an argument value gives: a number, a numeric variable, or an array's length.
    fn value(&mut self) -> Option<u64> {
        let tok = self.t.get(self.i).cloned();
        self.i += 1;
        match tok? {
            Tok::Num(n) => Some(n),
            Tok::Var(v) => match &self.vars[&v] {
                Value::Number(n) => n.as_u64(),
                Value::Array(a) => Some(a.len() as u64),
                _ => None,
            },
            Tok::Punct('[') => {
                let mut n = 0;
                while self.peek() != Some(&Tok::Punct(']')) && self.peek().is_some() {
                    self.i += 1;
                    n += 1;
                }
                self.i += 1;
                Some(n)
            }
            _ => None,
        }
    }

    /// `(name: value, …)`: the size from `first`, `last` or `ids`.
    fn args(&mut self) -> Option<u64> {
        let mut size = None;
        self.i += 1;
        while let Some(tok) = self.peek().cloned() {
            if tok == Tok::Punct(')') {
                self.i += 1;
                break;
            }
            let Tok::Name(name) = tok else {
                self.i += 1;
                continue;
            };
            self.i += 2; // name and ':'
            let v = self.value();
            if matches!(name.as_str(), "first" | "last" | "ids") {
                size = v;
            }
        }
        size
    }

    /// `{ … }`: the cost of everything selected inside.
    fn selection(&mut self) -> u64 {
        let mut cost = 0;
        self.i += 1;
        while let Some(tok) = self.peek().cloned() {
            match tok {
                Tok::Punct('}') => {
                    self.i += 1;
                    break;
                }
                Tok::Spread => {
                    // `... on Type { … }`: part of the enclosing object.
                    self.i += 3;
                    cost += self.selection();
                }
                Tok::Name(name) => {
                    self.i += 1;
                    let size = if self.peek() == Some(&Tok::Punct('(')) {
                        self.args()
                    } else {
                        None
                    };
                    if self.peek() != Some(&Tok::Punct('{')) {
                        continue;
                    }
                    let inner = self.selection();
                    cost += match (name.as_str(), size) {
                        ("pageInfo", _) => 0,
                        // `nodes`/`edges` of a connection: counted by the connection.
                        ("nodes" | "edges", None) => inner,
                        (_, Some(n)) if name == "nodes" => n * (1 + inner),
                        (_, Some(n)) => 2 + n * (1 + inner),
                        _ => 1 + inner,
                    };
                }
                _ => self.i += 1,
            }
        }
        cost
    }
}

/// The requested cost of `query` with `variables`.
pub fn requested_cost(query: &str, variables: &Value) -> u64 {
    let t = tokens(query);
    // The operation's selection set: the first `{` (variable definitions come before it).
    let Some(start) = t.iter().position(|x| *x == Tok::Punct('{')) else {
        return 0;
    };
    let mut p = Parser {
        t,
        i: start,
        vars: variables,
    };
    p.selection()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_figure() {
        let q = "query P($first: Int!) { products(first: $first) { pageInfo { hasNextPage } nodes { id title \
          priceRangeV2 { minVariantPrice { amount } maxVariantPrice { amount } } \
          variants(first: 64) { pageInfo { hasNextPage } nodes { sku selectedOptions { name value } } } \
          media(first: 10) { nodes { alt ... on MediaImage { image { url } } } } } } }";
        assert_eq!(requested_cost(q, &serde_json::json!({"first": 10})), 1562);
    }
}

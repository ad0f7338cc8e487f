//! The `query` and `tags` filters.
//!
//! `query` grammar (a small subset of Datadog's search syntax):
//!
//! ```text
//! query := or
//! or    := and ("OR" and)*
//! and   := unary (["AND"] unary)*        adjacent terms are ANDed
//! unary := ("NOT" | "-") unary | "(" or ")" | term
//! term  := key ":" value                 value may be "double quoted"; `*` is a wildcard
//! ```
//!
//! Operators are upper case; keys and values match case-insensitively.

use crate::error::ApiError;
use crate::interner::Interner;

const MAX_QUERY_LEN: usize = 4_096;
const MAX_DEPTH: usize = 32;

/// A parsed filter, independent of the endpoint it will run against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expr {
    Term { key: String, value: String },
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Open,
    Close,
    And,
    Or,
    Not,
    Term(String, String),
}

fn invalid_query(detail: impl Into<String>) -> ApiError {
    ApiError::bad_parameter("query", "Invalid query", detail)
}

/// Parses the `query` parameter.
pub(crate) fn parse_query(input: &str) -> Result<Expr, ApiError> {
    if input.len() > MAX_QUERY_LEN {
        return Err(invalid_query(format!(
            "The query is longer than {MAX_QUERY_LEN} characters"
        )));
    }
    let tokens = tokenize(input)?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        depth: 0,
    };
    let expr = parser.or()?;
    match parser.tokens.get(parser.pos) {
        None => Ok(expr),
        Some(Token::Close) => Err(invalid_query("Unbalanced parentheses: unexpected `)`")),
        Some(token) => Err(invalid_query(format!("Unexpected {}", describe(token)))),
    }
}

/// Parses the `tags` parameter: comma-separated `key:value` tags, all of which must match.
pub(crate) fn parse_tags(input: &str) -> Result<Option<Expr>, ApiError> {
    let mut terms = Vec::new();
    for tag in input.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        match tag.split_once(':') {
            Some((key, value)) if !key.is_empty() && !value.is_empty() => {
                terms.push(Expr::Term {
                    key: key.to_owned(),
                    value: value.to_owned(),
                });
            }
            _ => {
                return Err(ApiError::bad_parameter(
                    "tags",
                    "Invalid tags",
                    format!("Tag `{tag}` is not of the form `key:value`"),
                ));
            }
        }
    }
    Ok(match terms.len() {
        0 => None,
        1 => terms.pop(),
        _ => Some(Expr::And(terms)),
    })
}

fn tokenize(input: &str) -> Result<Vec<Token>, ApiError> {
    let mut tokens = Vec::new();
    let mut chars = input.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                tokens.push(Token::Open);
            }
            ')' => {
                chars.next();
                tokens.push(Token::Close);
            }
            '-' => {
                chars.next();
                match chars.peek() {
                    Some(&(_, next)) if !next.is_whitespace() && next != ')' => {
                        tokens.push(Token::Not);
                    }
                    _ => return Err(invalid_query("`-` must be followed by a term or `(`")),
                }
            }
            _ => {
                let mut word = String::new();
                let mut quoted_value = false;
                while let Some(&(_, c)) = chars.peek() {
                    if c.is_whitespace() || c == '(' || c == ')' {
                        break;
                    }
                    chars.next();
                    if c == '"' {
                        quoted_value = true;
                        let mut closed = false;
                        for (_, c) in chars.by_ref() {
                            if c == '"' {
                                closed = true;
                                break;
                            }
                            word.push(c);
                        }
                        if !closed {
                            return Err(invalid_query(format!(
                                "Unterminated quote starting at character {start}"
                            )));
                        }
                    } else {
                        word.push(c);
                    }
                }
                tokens.push(word_token(word, quoted_value)?);
            }
        }
    }
    Ok(tokens)
}

fn word_token(word: String, quoted: bool) -> Result<Token, ApiError> {
    if !quoted {
        match word.as_str() {
            "AND" => return Ok(Token::And),
            "OR" => return Ok(Token::Or),
            "NOT" => return Ok(Token::Not),
            _ => {}
        }
    }
    match word.split_once(':') {
        Some((key, value)) if !key.is_empty() && (!value.is_empty() || quoted) => {
            Ok(Token::Term(key.to_owned(), value.to_owned()))
        }
        Some((key, _)) if !key.is_empty() => Err(invalid_query(format!(
            "Term `{word}` has no value (value lists like `key:(a OR b)` are not supported; \
             write `(key:a OR key:b)`)"
        ))),
        _ => Err(invalid_query(format!(
            "Term `{word}` is not of the form `key:value`"
        ))),
    }
}

fn describe(token: &Token) -> String {
    match token {
        Token::Open => "`(`".to_owned(),
        Token::Close => "`)`".to_owned(),
        Token::And => "`AND`".to_owned(),
        Token::Or => "`OR`".to_owned(),
        Token::Not => "`NOT`".to_owned(),
        Token::Term(key, value) => format!("`{key}:{value}`"),
    }
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn or(&mut self) -> Result<Expr, ApiError> {
        let mut items = vec![self.and()?];
        while self.peek() == Some(&Token::Or) {
            self.pos += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.swap_remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn and(&mut self) -> Result<Expr, ApiError> {
        let mut items = vec![self.unary()?];
        loop {
            match self.peek() {
                Some(Token::And) => {
                    self.pos += 1;
                    items.push(self.unary()?);
                }
                Some(Token::Not | Token::Open | Token::Term(..)) => items.push(self.unary()?),
                _ => break,
            }
        }
        Ok(if items.len() == 1 {
            items.swap_remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn unary(&mut self) -> Result<Expr, ApiError> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        match token {
            Some(Token::Not) => {
                self.enter()?;
                let inner = self.unary()?;
                self.depth -= 1;
                Ok(Expr::Not(Box::new(inner)))
            }
            Some(Token::Open) => {
                self.enter()?;
                let inner = self.or()?;
                self.depth -= 1;
                match self.tokens.get(self.pos) {
                    Some(Token::Close) => {
                        self.pos += 1;
                        Ok(inner)
                    }
                    _ => Err(invalid_query("Unbalanced parentheses: missing `)`")),
                }
            }
            Some(Token::Term(key, value)) => Ok(Expr::Term { key, value }),
            Some(token) => Err(invalid_query(format!(
                "Expected a `key:value` term, `NOT` or `(` but found {}",
                describe(&token)
            ))),
            None => Err(invalid_query(
                "The query ends where a `key:value` term was expected",
            )),
        }
    }

    fn enter(&mut self) -> Result<(), ApiError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(invalid_query(format!(
                "The query nests deeper than {MAX_DEPTH} levels"
            )));
        }
        Ok(())
    }
}

/// An [`Expr`] bound to one endpoint's tag slots, with every term's verdict precomputed for
/// every interned string, so matching a flow is a few array lookups.
pub(crate) enum Matcher {
    Const(bool),
    Term {
        slots: Vec<usize>,
        accepts: Vec<bool>,
    },
    Not(Box<Matcher>),
    And(Vec<Matcher>),
    Or(Vec<Matcher>),
}

impl Matcher {
    pub(crate) fn compile(expr: &Expr, keys: &[&str], strings: &Interner) -> Self {
        match expr {
            Expr::Term { key, value } => {
                let slots: Vec<usize> = keys
                    .iter()
                    .enumerate()
                    .filter(|(_, k)| glob(key.as_bytes(), k.as_bytes()))
                    .map(|(slot, _)| slot)
                    .collect();
                if slots.is_empty() {
                    return Self::Const(false);
                }
                let accepts = (0..strings.len() as u32)
                    .map(|id| glob(value.as_bytes(), strings.get(id).as_bytes()))
                    .collect();
                Self::Term { slots, accepts }
            }
            Expr::Not(inner) => Self::Not(Box::new(Self::compile(inner, keys, strings))),
            Expr::And(items) => Self::And(
                items
                    .iter()
                    .map(|e| Self::compile(e, keys, strings))
                    .collect(),
            ),
            Expr::Or(items) => Self::Or(
                items
                    .iter()
                    .map(|e| Self::compile(e, keys, strings))
                    .collect(),
            ),
        }
    }

    pub(crate) fn matches(&self, tags: &[u32]) -> bool {
        match self {
            Self::Const(verdict) => *verdict,
            Self::Term { slots, accepts } => slots.iter().any(|&slot| {
                tags.get(slot)
                    .and_then(|&id| accepts.get(id as usize))
                    .copied()
                    .unwrap_or(false)
            }),
            Self::Not(inner) => !inner.matches(tags),
            Self::And(items) => items.iter().all(|m| m.matches(tags)),
            Self::Or(items) => items.iter().any(|m| m.matches(tags)),
        }
    }
}

/// `*` matches any run of characters; everything else matches itself, ignoring ASCII case.
pub(crate) fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                backtrack = Some((p, t));
                p += 1;
            }
            Some(c) if c.eq_ignore_ascii_case(&text[t]) => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((star, mark)) => {
                    p = star + 1;
                    t = mark + 1;
                    backtrack = Some((star, mark + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::{Expr, glob, parse_query, parse_tags};

    fn term(key: &str, value: &str) -> Expr {
        Expr::Term {
            key: key.to_owned(),
            value: value.to_owned(),
        }
    }

    #[test]
    fn globs() {
        assert!(glob(b"web", b"web"));
        assert!(glob(b"WEB", b"web"));
        assert!(glob(b"*", b""));
        assert!(glob(b"check*", b"checkout-api"));
        assert!(glob(b"*-api", b"checkout-api"));
        assert!(glob(b"c*t*i", b"checkout-api"));
        assert!(glob(b"a*b*c", b"aXbYbZc"));
        assert!(!glob(b"a*b*c", b"aXbYbZ"));
        assert!(!glob(b"web", b"webs"));
        assert!(!glob(b"", b"x"));
    }

    #[test]
    fn precedence_is_not_then_and_then_or() -> Result<(), crate::ApiError> {
        let parsed = parse_query("a:1 b:2 OR NOT c:3 AND -d:4")?;
        let expected = Expr::Or(vec![
            Expr::And(vec![term("a", "1"), term("b", "2")]),
            Expr::And(vec![
                Expr::Not(Box::new(term("c", "3"))),
                Expr::Not(Box::new(term("d", "4"))),
            ]),
        ]);
        assert_eq!(parsed, expected);
        let grouped = parse_query("-(a:1 OR b:\"two words\")")?;
        let expected = Expr::Not(Box::new(Expr::Or(vec![
            term("a", "1"),
            term("b", "two words"),
        ])));
        assert_eq!(grouped, expected);
        Ok(())
    }

    #[test]
    fn malformed_queries_are_rejected() {
        for bad in [
            "", "web", "a:1 AND", "OR a:1", "(a:1", "a:1)", "()", "a:", ":b", "- a:1", "a:\"x",
            "NOT",
        ] {
            assert!(parse_query(bad).is_err(), "{bad:?} should be rejected");
        }
        let deep = format!("{}a:1{}", "(".repeat(100), ")".repeat(100));
        assert!(parse_query(&deep).is_err());
    }

    #[test]
    fn tags_are_anded() -> Result<(), crate::ApiError> {
        assert_eq!(parse_tags(" , ")?, None);
        assert_eq!(parse_tags("env:prod")?, Some(term("env", "prod")));
        assert_eq!(
            parse_tags("env:prod, client_team:net*")?,
            Some(Expr::And(vec![
                term("env", "prod"),
                term("client_team", "net*")
            ]))
        );
        assert!(parse_tags("prod").is_err());
        Ok(())
    }
}

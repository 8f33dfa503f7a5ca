//! Where the cursor is: the keys and list positions from the root down to it,
//! and whether a key or a value is being typed. Read from the text line by
//! line and by indentation, not from the YAML parser, so a half-typed document
//! that does not parse (an unclosed `{`, a key with no value yet) still answers.

use super::Seg;

/// What is being typed at the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cursor {
    /// From the root: for a key, the map it goes in; for a value, down to its
    /// key (or list position).
    pub(crate) path: Vec<Seg>,
    pub(crate) at: At,
    /// The word typed so far, which a completion replaces, and where it starts.
    pub(crate) word: String,
    pub(crate) word_start: usize,
    /// For a value: its text from its first character to the cursor (an
    /// expression typed so far).
    pub(crate) value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum At {
    Key,
    Value,
    /// In a comment: nothing to offer.
    Comment,
}

/// One block-level piece at the start of a line: a `- ` list marker or a `key:`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Item {
        col: usize,
    },
    Key {
        col: usize,
        name: String,
        valued: bool,
    },
}

impl Piece {
    fn col(&self) -> usize {
        match self {
            Piece::Item { col } | Piece::Key { col, .. } => *col,
        }
    }
}

/// The cursor at byte `offset` of `source`.
pub(crate) fn at(source: &str, offset: usize) -> Cursor {
    let offset = floor_char(source, offset.min(source.len()));
    let line_start = source[..offset].rfind('\n').map_or(0, |at| at + 1);
    let lines: Vec<&str> = source[..line_start].split_terminator('\n').collect();
    let prefix = &source[line_start..offset];
    let (markers, content) = markers(prefix);
    // Where this line's structure starts: its first marker, or what it holds.
    let first = markers.first().copied().unwrap_or(content);
    let mut path = ancestors(&lines, first, !markers.is_empty());
    for col in &markers {
        path.push(Seg::Index(items_before(&lines, *col)));
    }
    let mut cursor = flow(&prefix[content..], line_start + content);
    path.append(&mut cursor.path);
    cursor.path = path;
    cursor
}

fn floor_char(source: &str, mut offset: usize) -> usize {
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The columns of the `- ` markers that open a line, and the column after them.
fn markers(line: &str) -> (Vec<usize>, usize) {
    let mut at = line.len() - line.trim_start_matches(' ').len();
    let mut found = Vec::new();
    loop {
        let rest = &line[at..];
        if rest == "-" || rest.starts_with("- ") {
            found.push(at);
            at += 1;
            at += line[at..].len() - line[at..].trim_start_matches(' ').len();
        } else {
            return (found, at);
        }
    }
}

/// The block-level pieces that open a line: its markers and its key, if any.
fn pieces(line: &str) -> Vec<Piece> {
    let trimmed = line.trim_start();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Vec::new();
    }
    let (markers, content) = markers(line);
    let mut pieces: Vec<Piece> = markers.into_iter().map(|col| Piece::Item { col }).collect();
    if let Some((name, rest)) = split_key(&line[content..]) {
        let rest = rest.trim();
        pieces.push(Piece::Key {
            col: content,
            name: name.to_string(),
            valued: !rest.is_empty() && !rest.starts_with('#'),
        });
    } else if pieces.is_empty() {
        // A bare scalar (a continued value): deeper lines do not hang under it.
        pieces.push(Piece::Item { col: content });
    }
    pieces
}

/// `key: rest` or `key:` at the start of `text`, quotes around the key allowed.
fn split_key(text: &str) -> Option<(&str, &str)> {
    if let Some(quote @ ('"' | '\'')) = text.chars().next() {
        let close = text[1..].find(quote)? + 1;
        let rest = text[close + 1..].strip_prefix(':')?;
        return (rest.is_empty() || rest.starts_with(' ')).then(|| (&text[1..close], rest));
    }
    if text.starts_with(['{', '[', '#', '&', '*', '!', '|', '>']) {
        return None;
    }
    let mut from = 0;
    while let Some(at) = text[from..].find(':') {
        let at = from + at;
        let after = &text[at + 1..];
        if after.is_empty() || after.starts_with(' ') {
            return Some((text[..at].trim_end(), after));
        }
        from = at + 1;
    }
    None
}

/// The path of the collection a line whose structure starts at `col` sits in,
/// read upwards from the lines before it. `item` says the line opens with a
/// `- ` marker, which may stand at its parent key's column.
fn ancestors(lines: &[&str], col: usize, item: bool) -> Vec<Seg> {
    let mut limit = col;
    let mut item = item;
    let mut found = Vec::new();
    for (index, line) in lines.iter().enumerate().rev() {
        let pieces = pieces(line);
        let Some(head) = pieces.first() else { continue };
        let compact_parent = item
            && matches!(pieces.last(), Some(Piece::Key { col, valued: false, .. }) if *col == limit);
        if head.col() > limit || (head.col() == limit && !compact_parent) {
            continue;
        }
        for piece in pieces.iter().rev() {
            let inside = piece.col() < limit || (compact_parent && piece.col() == limit);
            match piece {
                Piece::Key { name, .. } if inside => found.push(Seg::Key(name.clone())),
                Piece::Item { col } if inside => {
                    found.push(Seg::Index(items_before(&lines[..index], *col)))
                }
                _ => {}
            }
        }
        limit = head.col();
        item = matches!(head, Piece::Item { .. });
        if limit == 0 && !item {
            break;
        }
    }
    found.reverse();
    found
}

/// How many items of the list whose markers stand at `col` come before the
/// lines `lines` end on.
fn items_before(lines: &[&str], col: usize) -> usize {
    let mut count = 0;
    for line in lines.iter().rev() {
        let pieces = pieces(line);
        let Some(head) = pieces.first() else { continue };
        match head {
            Piece::Item { col: at } if *at == col => count += 1,
            _ if head.col() > col => {}
            _ => break,
        }
    }
    count
}

/// An open flow collection on the cursor's line.
enum Frame {
    Map(Option<String>),
    Seq(usize),
}

/// What has been read of the cursor's line so far.
#[derive(Default)]
struct Reader {
    frames: Vec<Frame>,
    /// The `key:` the line holds outside any flow collection.
    block_key: Option<String>,
    /// A block value that is plain text: brackets and commas in it are text.
    plain: bool,
    quote: Option<char>,
    /// Where the key or value being read starts.
    token_start: usize,
}

/// Reads the rest of the cursor's line, from its first key or value to the
/// cursor: `key: value`, flow maps and lists, quoted text.
fn flow(text: &str, base: usize) -> Cursor {
    let mut reader = Reader::default();
    let mut previous = ' ';
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let next = chars.peek().map(|(_, c)| *c);
        if reader.quote.is_none() && c == '#' && (previous == ' ' || at == 0) {
            return cursor(Vec::new(), At::Comment, text, base, at);
        }
        reader.step(text, at, c, next);
        previous = c;
    }
    let token_start = reader.token_start;
    let (path, at) = reader.finish();
    cursor(path, at, text, base, token_start)
}

impl Reader {
    fn step(&mut self, text: &str, at: usize, c: char, next: Option<char>) {
        if let Some(q) = self.quote {
            if c == q {
                self.quote = None;
            }
            return;
        }
        let fresh = text[self.token_start..at].trim().is_empty();
        let in_flow = !self.frames.is_empty();
        match c {
            '"' | '\'' if fresh => {
                self.quote = Some(c);
                self.token_start = at;
            }
            '{' | '[' if fresh && !self.plain => {
                self.frames.push(if c == '{' {
                    Frame::Map(None)
                } else {
                    Frame::Seq(0)
                });
                self.token_start = at + 1;
            }
            ',' if in_flow => {
                match self.frames.last_mut() {
                    Some(Frame::Map(key)) => *key = None,
                    Some(Frame::Seq(n)) => *n += 1,
                    None => {}
                }
                self.token_start = at + 1;
            }
            '}' | ']' if in_flow => {
                self.frames.pop();
                self.token_start = at + 1;
            }
            ':' if !self.plain
                && (next.is_none_or(|n| n == ' ')
                    || (in_flow && matches!(next, Some(',' | '}' | ']')))) =>
            {
                let key = unquote(text[self.token_start..at].trim()).to_string();
                match self.frames.last_mut() {
                    Some(Frame::Map(slot)) => *slot = Some(key),
                    Some(Frame::Seq(_)) => {}
                    None => self.block_key = Some(key),
                }
                self.token_start = at + 1;
            }
            ' ' => {}
            _ => self.plain |= !in_flow && self.block_key.is_some() && fresh,
        }
    }

    /// The path down to what the cursor is in, and whether a key or a value is typed.
    fn finish(self) -> (Vec<Seg>, At) {
        let mut path = Vec::new();
        let mut at = At::Key;
        if let Some(key) = self.block_key {
            path.push(Seg::Key(key));
            at = At::Value;
        }
        for frame in self.frames {
            at = match frame {
                Frame::Map(Some(key)) => {
                    path.push(Seg::Key(key));
                    At::Value
                }
                Frame::Map(None) => At::Key,
                Frame::Seq(n) => {
                    path.push(Seg::Index(n));
                    At::Value
                }
            };
        }
        (path, at)
    }
}

fn cursor(path: Vec<Seg>, at: At, text: &str, base: usize, value_from: usize) -> Cursor {
    let value = text[value_from..]
        .trim_start()
        .trim_start_matches(['"', '\'']);
    // The word: the identifier characters (and `-`, in ids) right before the cursor.
    let word_len = value
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
        .map(char::len_utf8)
        .sum::<usize>();
    Cursor {
        path,
        at,
        word: value[value.len() - word_len..].to_string(),
        word_start: base + text.len() - word_len,
        value: value.to_string(),
    }
}

fn unquote(text: &str) -> &str {
    text.trim_matches(['"', '\''])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> Seg {
        Seg::Key(name.into())
    }

    /// The cursor where `|` stands in `text`.
    fn here(text: &str) -> Cursor {
        let offset = text.find('|').expect("a cursor mark");
        let source = text.replacen('|', "", 1);
        at(&source, offset)
    }

    #[test]
    fn a_key_in_a_block_map() {
        let c = here("campaign: a\nwindow:\n  from: 2026-01-01\n  zo|\n");
        assert_eq!(c.path, vec![key("window")]);
        assert_eq!((c.at, c.word.as_str()), (At::Key, "zo"));
    }

    #[test]
    fn a_value_in_an_unclosed_flow_map_of_a_list() {
        let c = here("pool:\n  - { award: a, rate: 1 }\n  - { award: po|\nbefore: []\n");
        assert_eq!(c.path, vec![key("pool"), Seg::Index(1), key("award")]);
        assert_eq!((c.at, c.word.as_str()), (At::Value, "po"));
    }

    #[test]
    fn a_key_after_a_comma_in_a_flow_map() {
        let c = here("pool:\n- { award: a, rate:\n- { award: b, |");
        assert_eq!(c.path, vec![key("pool"), Seg::Index(1)]);
        assert_eq!(c.at, At::Key);
    }

    #[test]
    fn a_key_with_no_value_yet_under_nested_lists() {
        let source = "trees:\n  t:\n    - lock: { after: 3 }\n    - stock:\n        exh|";
        let c = here(source);
        assert_eq!(
            c.path,
            vec![key("trees"), key("t"), Seg::Index(1), key("stock")]
        );
        assert_eq!((c.at, c.word.as_str()), (At::Key, "exh"));
    }

    #[test]
    fn an_expression_being_typed() {
        let c = here("rebates:\n  - on: pay\n    when: \"event.amount > 3 and user.|");
        assert_eq!(c.path, vec![key("rebates"), Seg::Index(0), key("when")]);
        assert_eq!(c.value, "event.amount > 3 and user.");
        assert_eq!(c.word, "");
    }

    #[test]
    fn a_plain_block_value_keeps_its_commas() {
        let c = here("awards:\n  a:\n    amount: random(1, ma|");
        assert_eq!(c.path, vec![key("awards"), key("a"), key("amount")]);
        assert_eq!((c.value.as_str(), c.word.as_str()), ("random(1, ma", "ma"));
    }

    #[test]
    fn nothing_in_a_comment() {
        assert_eq!(here("awards: # the pri|").at, At::Comment);
    }

    #[test]
    fn non_ascii_before_the_cursor() {
        let c = here("name: Fête d'été\nawards:\n  a: { kind: cr|");
        assert_eq!(c.path, vec![key("awards"), key("a"), key("kind")]);
        assert_eq!(c.word, "cr");
    }
}

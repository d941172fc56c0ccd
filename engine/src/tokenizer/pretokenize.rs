//! Pre-tokenization: the text is cut into pieces before BPE, exactly as
//! llama.cpp does for `tokenizer.ggml.pre = "smollm"` (= the Hugging Face
//! tokenizer's Digits(individual) + ByteLevel split):
//!
//! 1. `\p{N}`: every number character becomes its own piece;
//! 2. GPT-2's pattern on each remaining piece:
//!    `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
//!
//! Written by hand (leftmost alternative wins; the lookahead becomes "leave
//! the last whitespace for the next piece"), so no regex engine is needed.

use super::unicode_tables::{LETTER, NUMBER};

fn in_ranges(table: &[(u32, u32)], c: char) -> bool {
    let cp = c as u32;
    table
        .binary_search_by(|&(lo, hi)| {
            if hi < cp {
                std::cmp::Ordering::Less
            } else if lo > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

pub(crate) fn is_letter(c: char) -> bool {
    if c.is_ascii() { c.is_ascii_alphabetic() } else { in_ranges(LETTER, c) }
}

pub(crate) fn is_number(c: char) -> bool {
    if c.is_ascii() { c.is_ascii_digit() } else { in_ranges(NUMBER, c) }
}

/// Which pre-tokenizer a GGUF names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreTokenizer {
    /// GPT-2 pattern only.
    Gpt2,
    /// Individual digits, then the GPT-2 pattern (SmolLM, StarCoder).
    DigitsThenGpt2,
}

impl PreTokenizer {
    pub fn from_gguf_name(name: &str) -> Option<Self> {
        match name {
            "gpt-2" | "gpt2" | "default" => Some(PreTokenizer::Gpt2),
            "smollm" | "starcoder" | "refact" | "codeshell" => Some(PreTokenizer::DigitsThenGpt2),
            _ => None,
        }
    }

    /// Byte ranges of `text`'s pieces, in order, covering all of it.
    pub fn split(self, text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        match self {
            PreTokenizer::Gpt2 => gpt2_split(text, &mut out),
            PreTokenizer::DigitsThenGpt2 => {
                let mut start = 0;
                for (i, c) in text.char_indices() {
                    if is_number(c) {
                        gpt2_split(&text[start..i], &mut out);
                        let end = i + c.len_utf8();
                        out.push(&text[i..end]);
                        start = end;
                    }
                }
                gpt2_split(&text[start..], &mut out);
            }
        }
        out
    }
}

fn gpt2_split<'t>(text: &'t str, out: &mut Vec<&'t str>) {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let n = chars.len();
    let at = |i: usize| chars.get(i).map(|&(_, c)| c);
    let offset = |i: usize| chars.get(i).map_or(text.len(), |&(o, _)| o);
    let other = |c: char| !c.is_whitespace() && !is_letter(c) && !is_number(c);
    let mut i = 0;
    while i < n {
        let c = chars[i].1;
        let start = i;
        // 's 't 're 've 'm 'll 'd
        if c == '\'' {
            let c1 = at(i + 1);
            let c2 = at(i + 2);
            let len = match (c1, c2) {
                (Some('s' | 't' | 'm' | 'd'), _) => 2,
                (Some('r'), Some('e')) | (Some('v'), Some('e')) | (Some('l'), Some('l')) => 3,
                _ => 0,
            };
            if len > 0 {
                i += len;
                out.push(&text[offset(start)..offset(i)]);
                continue;
            }
        }
        // " ?X+" for the three classes: the optional space only joins a run.
        let (lead, first) = if c == ' ' { (1, at(i + 1)) } else { (0, Some(c)) };
        let class: Option<fn(char) -> bool> = match first {
            Some(f) if is_letter(f) => Some(is_letter),
            Some(f) if is_number(f) => Some(is_number),
            Some(f) if other(f) => Some(other),
            _ => None,
        };
        if let Some(class) = class {
            i += lead;
            while at(i).is_some_and(class) {
                i += 1;
            }
            out.push(&text[offset(start)..offset(i)]);
            continue;
        }
        // Whitespace run: keep its last character for the next piece when a
        // non-space follows (`\s+(?!\S)`), unless the run is one character.
        let mut j = i;
        while at(j).is_some_and(char::is_whitespace) {
            j += 1;
        }
        if j > i {
            i = if j < n && j - i > 1 { j - 1 } else { j };
        } else {
            i += 1;
        }
        out.push(&text[offset(start)..offset(i)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_gpt2() {
        let p = PreTokenizer::DigitsThenGpt2;
        assert_eq!(p.split("Hello world"), ["Hello", " world"]);
        assert_eq!(p.split("I'm 123!"), ["I", "'m", " ", "1", "2", "3", "!"]);
        assert_eq!(p.split("a  b\n\n c "), ["a", " ", " b", "\n\n", " c", " "]);
        assert_eq!(p.split("x\ty"), ["x", "\t", "y"]);
        assert_eq!(p.split("héllo 東京 ?!"), ["héllo", " 東京", " ?!"]);
        assert_eq!(PreTokenizer::Gpt2.split("ab 12"), ["ab", " 12"]);
        assert!(p.split("").is_empty());
    }
}

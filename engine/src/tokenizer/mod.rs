//! GPT-2-style byte-level BPE built from GGUF metadata
//! (`tokenizer.ggml.tokens/merges/token_type/pre`), plus the chat template.
//! Prompts are committed as token ids, so tokenization only has to be a
//! deterministic function of the model file; it also matches llama.cpp.
//!
//! **Hand-written on purpose, and it must stay so.** The prompt hash that
//! every party computes from the on-chain prompt ([`crate::job`]) and checks against the
//! output hash is over these token ids; a tokenizer crate (or the `regex`
//! and Unicode crates a pre-tokenizer would pull in) could change the ids
//! between versions — new Unicode data, a fixed edge case — and then a
//! provider and an oracle built with different dependency versions would
//! disagree about the same job, and an honest provider would be slashed.
//! Here every rule, and the Unicode 14.0.0 tables (`unicode_tables.rs`,
//! generated once by `scripts/gen-unicode-tables.py` and committed; another
//! Python's `unicodedata` would give other tables), change only by a commit
//! to this crate, which `tests/tokenizer.rs` and `tests/smollm2.rs` pin.

mod bytes;
mod chat;
mod pretokenize;
mod unicode_tables;

use std::collections::HashMap;

pub use chat::{ChatTemplate, Message};
pub use pretokenize::PreTokenizer;

use crate::error::{Error, Result};
use crate::gguf::{Gguf, Value};

/// GGUF token types that are matched verbatim in text (control, user-defined).
const TYPE_CONTROL: i32 = 3;
const TYPE_USER_DEFINED: i32 = 4;

#[derive(Clone)]
pub struct Tokenizer {
    tokens: Vec<String>,
    token_type: Vec<i32>,
    ids: HashMap<String, u32>,
    /// (left id, right id) -> (rank, merged id)
    merges: HashMap<(u32, u32), (u32, u32)>,
    /// Verbatim tokens, longest first.
    specials: Vec<(String, u32)>,
    byte_to_char: [char; 256],
    char_to_byte: HashMap<char, u8>,
    pre: PreTokenizer,
    pub bos_token: Option<u32>,
    pub eos_token: Option<u32>,
    pub chat_template: Option<ChatTemplate>,
}

fn strings(g: &Gguf<'_>, key: &str) -> Result<Vec<String>> {
    g.get(key)
        .and_then(Value::as_array)
        .ok_or_else(|| Error::Tokenizer(format!("missing {key}")))?
        .iter()
        .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| Error::Tokenizer(format!("{key} holds a non-string"))))
        .collect()
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer")
            .field("vocab_size", &self.tokens.len())
            .field("merges", &self.merges.len())
            .field("pre", &self.pre)
            .finish_non_exhaustive()
    }
}

impl Tokenizer {
    pub fn from_gguf(g: &Gguf<'_>) -> Result<Self> {
        let model = g.get("tokenizer.ggml.model").and_then(Value::as_str).unwrap_or("");
        if model != "gpt2" {
            return Err(Error::Tokenizer(format!("tokenizer model {model:?} (only gpt2 BPE)")));
        }
        let pre_name = g.get("tokenizer.ggml.pre").and_then(Value::as_str).unwrap_or("default");
        let pre = PreTokenizer::from_gguf_name(pre_name)
            .ok_or_else(|| Error::Tokenizer(format!("pre-tokenizer {pre_name:?}")))?;
        let tokens = strings(g, "tokenizer.ggml.tokens")?;
        let merges = strings(g, "tokenizer.ggml.merges")?;
        let token_type: Vec<i32> = match g.get("tokenizer.ggml.token_type") {
            Some(v) => v
                .as_array()
                .ok_or_else(|| Error::Tokenizer("token_type is not an array".into()))?
                .iter()
                .map(|t| match t {
                    Value::I32(x) => Ok(*x),
                    other => other
                        .as_u64()
                        .and_then(|x| i32::try_from(x).ok())
                        .ok_or_else(|| Error::Tokenizer("token_type value".into())),
                })
                .collect::<Result<_>>()?,
            None => vec![1; tokens.len()],
        };
        if token_type.len() != tokens.len() || tokens.len() > u32::MAX as usize {
            return Err(Error::Tokenizer("token_type and tokens differ in length".into()));
        }
        let token_id = |key: &str| {
            g.get(key)
                .and_then(Value::as_u64)
                .and_then(|v| u32::try_from(v).ok())
                .filter(|&v| (v as usize) < tokens.len())
        };
        let chat_template = g.get("tokenizer.chat_template").and_then(Value::as_str).and_then(ChatTemplate::from_jinja);
        let (bos, eos) = (token_id("tokenizer.ggml.bos_token_id"), token_id("tokenizer.ggml.eos_token_id"));
        Self::new(tokens, token_type, &merges, pre, bos, eos, chat_template)
    }

    pub fn new(
        tokens: Vec<String>,
        token_type: Vec<i32>,
        merges: &[String],
        pre: PreTokenizer,
        bos_token: Option<u32>,
        eos_token: Option<u32>,
        chat_template: Option<ChatTemplate>,
    ) -> Result<Self> {
        let mut ids = HashMap::with_capacity(tokens.len());
        for (i, t) in tokens.iter().enumerate() {
            // First occurrence wins for duplicate strings.
            ids.entry(t.clone()).or_insert(i as u32);
        }
        let mut merge_map = HashMap::with_capacity(merges.len());
        for (rank, m) in merges.iter().enumerate() {
            let (a, b) = m.split_once(' ').ok_or_else(|| Error::Tokenizer(format!("merge {m:?} has no space")))?;
            let lookup = |s: &str| {
                ids.get(s).copied().ok_or_else(|| Error::Tokenizer(format!("merge {m:?} names unknown token {s:?}")))
            };
            let merged = lookup(&format!("{a}{b}"))?;
            merge_map.entry((lookup(a)?, lookup(b)?)).or_insert((rank as u32, merged));
        }
        let mut specials: Vec<(String, u32)> = tokens
            .iter()
            .zip(&token_type)
            .enumerate()
            .filter(|(_, (t, ty))| !t.is_empty() && (**ty == TYPE_CONTROL || **ty == TYPE_USER_DEFINED))
            .map(|(i, (t, _))| (t.clone(), i as u32))
            .collect();
        specials.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));
        let byte_to_char = bytes::byte_to_char_table();
        let char_to_byte = byte_to_char.iter().enumerate().map(|(b, &c)| (c, b as u8)).collect();
        Ok(Self {
            tokens,
            token_type,
            ids,
            merges: merge_map,
            specials,
            byte_to_char,
            char_to_byte,
            pre,
            bos_token,
            eos_token,
            chat_template,
        })
    }

    pub fn vocab_size(&self) -> usize {
        self.tokens.len()
    }

    /// The token's text as stored in the vocabulary (byte-mapped form).
    pub fn token_str(&self, id: u32) -> Option<&str> {
        self.tokens.get(id as usize).map(String::as_str)
    }

    /// Tokenizes `text`; control tokens written in the text (e.g.
    /// `<|im_start|>`) become their ids. No BOS is added (SmolLM2 has
    /// `add_bos_token = false`; chat templates carry their own markers).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let mut out = Vec::new();
        let mut plain_start = 0;
        let mut i = 0;
        while i < text.len() {
            let special = self.specials.iter().find(|(s, _)| text[i..].starts_with(s.as_str()));
            match special {
                Some((s, id)) => {
                    self.encode_plain(&text[plain_start..i], &mut out)?;
                    out.push(*id);
                    i += s.len();
                    plain_start = i;
                }
                None => i += text[i..].chars().next().map_or(1, char::len_utf8),
            }
        }
        self.encode_plain(&text[plain_start..], &mut out)?;
        Ok(out)
    }

    fn encode_plain(&self, text: &str, out: &mut Vec<u32>) -> Result<()> {
        for piece in self.pre.split(text) {
            let mapped: String = piece.bytes().map(|b| self.byte_to_char[b as usize]).collect();
            if let Some(&id) = self.ids.get(&mapped) {
                out.push(id);
                continue;
            }
            let mut syms = Vec::with_capacity(mapped.len());
            for c in mapped.chars() {
                let mut buf = [0u8; 4];
                let id = self
                    .ids
                    .get(&*c.encode_utf8(&mut buf))
                    .copied()
                    .ok_or_else(|| Error::Tokenizer(format!("byte character {c:?} is not in the vocabulary")))?;
                syms.push(id);
            }
            self.apply_merges(&mut syms);
            out.extend_from_slice(&syms);
        }
        Ok(())
    }

    /// Standard BPE: repeatedly merge the adjacent pair with the lowest rank
    /// (leftmost on ties) until no pair has a merge.
    fn apply_merges(&self, syms: &mut Vec<u32>) {
        loop {
            let best = syms
                .windows(2)
                .enumerate()
                .filter_map(|(i, w)| self.merges.get(&(w[0], w[1])).map(|&(rank, id)| (rank, i, id)))
                .min();
            match best {
                Some((_, i, id)) => {
                    syms[i] = id;
                    syms.remove(i + 1);
                }
                None => return,
            }
        }
    }

    /// The bytes the ids stand for (control tokens as their text).
    pub fn decode_bytes(&self, ids: &[u32]) -> Vec<u8> {
        let mut out = Vec::new();
        for &id in ids {
            let Some(tok) = self.tokens.get(id as usize) else {
                continue;
            };
            let ty = self.token_type.get(id as usize).copied().unwrap_or(1);
            if ty == TYPE_CONTROL || ty == TYPE_USER_DEFINED {
                out.extend_from_slice(tok.as_bytes());
                continue;
            }
            for c in tok.chars() {
                match self.char_to_byte.get(&c) {
                    Some(&b) => out.push(b),
                    None => {
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    }
                }
            }
        }
        out
    }

    /// `decode_bytes` as text; invalid UTF-8 (a split character) becomes U+FFFD.
    pub fn decode(&self, ids: &[u32]) -> String {
        String::from_utf8_lossy(&self.decode_bytes(ids)).into_owned()
    }

    /// The chat prompt's token ids, via the model's template.
    pub fn encode_chat(&self, messages: &[Message]) -> Result<Vec<u32>> {
        let template = self
            .chat_template
            .as_ref()
            .ok_or_else(|| Error::Tokenizer("the model has no ChatML chat template".into()))?;
        self.encode(&template.render(messages))
    }
}

/// GPT-2's byte -> character table (index = byte value).
pub fn byte_chars() -> [char; 256] {
    bytes::byte_to_char_table()
}

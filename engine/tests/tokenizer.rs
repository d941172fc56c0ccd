//! Tokenization: round trips, the GGUF vocabulary's own merges, and (when
//! the real model is installed) ids that match llama.cpp's tokenizer.

mod common;

use spotcheck_engine::gguf::GgmlType;
use spotcheck_engine::{Message, Model};

const SAMPLES: &[&str] = &[
    "",
    "Hello world",
    "What is the capital of France?",
    "I'm 12345 years old!\n\n  Tabs\tand   spaces ",
    "naïve café — 東京 😀 don't",
    "<|im_start|>user\nhi<|im_end|>\n",
    "ends with newline\n",
    "   leading spaces",
    "unicode digits ٣٤ and ½",
];

#[test]
fn tiny_round_trips_and_uses_its_merges() {
    let model = common::tiny(GgmlType::F32);
    let tok = model.tokenizer().unwrap();
    for s in SAMPLES {
        let ids = tok.encode(s).unwrap();
        assert_eq!(tok.decode_bytes(&ids), s.as_bytes(), "{s:?}");
    }
    // " the" merges to one token via Ġ t -> Ġt, then Ġt he -> Ġthe.
    let the = tok.encode(" the").unwrap();
    assert_eq!(the.len(), 1);
    assert_eq!(tok.token_str(the[0]), Some("Ġthe"));
    // "sing" -> s + ing (in -> ing), not si + ng.
    let sing = tok.encode("sing").unwrap();
    let strs: Vec<_> = sing.iter().map(|&i| tok.token_str(i).unwrap()).collect();
    assert_eq!(strs, ["s", "ing"]);
    // Control tokens in text become their ids; digits are split.
    assert_eq!(tok.encode("<|im_end|>42").unwrap(), [2, 3 + 52, 3 + 50]);
}

#[test]
fn chat_template_renders_chatml_with_default_system() {
    let model = common::tiny(GgmlType::F32);
    let tok = model.tokenizer().unwrap();
    let t = tok.chat_template.as_ref().unwrap();
    assert_eq!(t.default_system.as_deref(), Some("You are tiny."));
    assert_eq!(
        t.render(&[Message::new("user", "Hi")]),
        "<|im_start|>system\nYou are tiny.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    );
    assert_eq!(
        t.render(&[Message::new("system", "S"), Message::new("user", "Hi")]),
        "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    );
}

#[test]
fn smollm2_tokenizer_matches_reference_ids() {
    let Some(path) = common::smollm2_path() else {
        return;
    };
    let model = Model::load(path).unwrap();
    let tok = model.tokenizer().unwrap();
    assert_eq!(tok.vocab_size(), 49152);
    // Reference ids from llama.cpp (llama-cpp-python 0.3.36) on this GGUF.
    let cases: &[(&str, &[u32])] = &[
        ("Hello world", &[19556, 905]),
        ("What is the capital of France?", &[1780, 314, 260, 3575, 282, 4649, 47]),
        (
            "I'm 12345 years old!\n\n  Tabs\tand   spaces ",
            &[57, 5248, 216, 33, 34, 35, 36, 37, 929, 1573, 17, 8866, 312, 7366, 197, 397, 256, 5600, 216],
        ),
        ("naïve café — 東京 😀 don't", &[3546, 46494, 37366, 1841, 17097, 247, 126, 16736, 122, 40303, 218, 1326, 982]),
    ];
    for (text, ids) in cases {
        assert_eq!(tok.encode(text).unwrap(), *ids, "{text:?}");
    }
    let chat = tok.encode_chat(&[Message::new("user", "What is the capital of France?")]).unwrap();
    let want: &[u32] = &[
        1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 308, 34519, 28, 7018, 411, 407, 19712, 8182, 2,
        198, 1, 4093, 198, 1780, 314, 260, 3575, 282, 4649, 47, 2, 198, 1, 520, 9531, 198,
    ];
    assert_eq!(chat, want);
    for s in SAMPLES {
        assert_eq!(tok.decode_bytes(&tok.encode(s).unwrap()), s.as_bytes(), "{s:?}");
    }
}

//! Chat templates. Only ChatML is supported, recognised from the Jinja text
//! in `tokenizer.chat_template` (not executed): SmolLM2's template renders
//! `<|im_start|>{role}\n{content}<|im_end|>\n` per message, prepends a
//! default system message when the first message isn't one, and ends with
//! `<|im_start|>assistant\n`.

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub role: String,
    pub content: String,
}

impl Message {
    pub fn new(role: &str, content: &str) -> Self {
        Self { role: role.to_owned(), content: content.to_owned() }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatTemplate {
    /// The system prompt the template inserts when none is given.
    pub default_system: Option<String>,
}

const START: &str = "<|im_start|>";
const END: &str = "<|im_end|>";

impl ChatTemplate {
    /// Recognises a ChatML Jinja template; None for anything else.
    pub fn from_jinja(template: &str) -> Option<Self> {
        if !template.contains(START) || !template.contains(END) {
            return None;
        }
        let marker = format!("{START}system\n");
        let default_system = if template.contains("!= 'system'") {
            template.find(&marker).and_then(|i| {
                let rest = &template[i + marker.len()..];
                rest.find(END).map(|j| rest[..j].to_owned())
            })
        } else {
            None
        };
        Some(Self { default_system })
    }

    /// The prompt text for `messages`, ready for the assistant's reply.
    pub fn render(&self, messages: &[Message]) -> String {
        let mut out = String::new();
        let has_system = messages.first().is_some_and(|m| m.role == "system");
        if let (false, Some(sys)) = (has_system, &self.default_system) {
            out.push_str(&format!("{START}system\n{sys}{END}\n"));
        }
        for m in messages {
            out.push_str(&format!("{START}{}\n{}{END}\n", m.role, m.content));
        }
        out.push_str(&format!("{START}assistant\n"));
        out
    }
}

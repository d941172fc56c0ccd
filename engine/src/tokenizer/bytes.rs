//! GPT-2's reversible byte <-> printable-character mapping: printable bytes
//! map to themselves, the rest to U+0100 upward, so any byte string is a
//! string of visible characters (space becomes 'Ġ').

pub(crate) fn byte_to_char_table() -> [char; 256] {
    let printable = |b: u32| (0x21..=0x7E).contains(&b) || (0xA1..=0xAC).contains(&b) || (0xAE..=0xFF).contains(&b);
    let mut table = ['\0'; 256];
    let mut next = 256u32;
    for (b, slot) in table.iter_mut().enumerate() {
        let b = b as u32;
        let cp = if printable(b) {
            b
        } else {
            next += 1;
            next - 1
        };
        // Every cp here is below 0x144, a valid scalar value.
        *slot = char::from_u32(cp).unwrap_or('\0');
    }
    table
}

#[cfg(test)]
mod tests {
    #[test]
    fn mapping_matches_gpt2() {
        let t = super::byte_to_char_table();
        assert_eq!(t[b' ' as usize], 'Ġ');
        assert_eq!(t[b'\n' as usize], 'Ċ');
        assert_eq!(t[b'a' as usize], 'a');
        assert_eq!(t[0], 'Ā');
        let mut sorted = t.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 256);
    }
}

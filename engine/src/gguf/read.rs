//! GGUF parsing. Every length and offset comes from an untrusted file, so
//! each is checked against the bytes that remain before it is used.

use super::{DEFAULT_ALIGNMENT, GgmlType, Gguf, MAGIC, TensorInfo, Value};
use crate::error::{Error, Result};

/// Nested arrays deeper than this are rejected (GGUF models use depth 1).
const MAX_DEPTH: usize = 3;
const MAX_DIMS: u32 = 4;

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| Error::corrupt(format!("truncated at byte {}", self.pos)))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// A count that must be satisfiable by the bytes left (each item needs
    /// at least `min_item_bytes`), so a forged count can't make us allocate.
    fn count(&mut self, min_item_bytes: usize) -> Result<usize> {
        let n = self.u64()?;
        let n = usize::try_from(n).map_err(|_| Error::corrupt("count overflows usize"))?;
        if n.saturating_mul(min_item_bytes.max(1)) > self.remaining() {
            return Err(Error::corrupt(format!("count {n} exceeds the {} bytes left", self.remaining())));
        }
        Ok(n)
    }

    fn string(&mut self) -> Result<String> {
        let n = self.count(1)?;
        let raw = self.take(n)?;
        String::from_utf8(raw.to_vec()).map_err(|_| Error::corrupt("string is not UTF-8"))
    }

    fn value(&mut self, ty: u32, depth: usize) -> Result<Value> {
        Ok(match ty {
            0 => Value::U8(self.array::<1>()?[0]),
            1 => Value::I8(i8::from_le_bytes(self.array()?)),
            2 => Value::U16(u16::from_le_bytes(self.array()?)),
            3 => Value::I16(i16::from_le_bytes(self.array()?)),
            4 => Value::U32(self.u32()?),
            5 => Value::I32(i32::from_le_bytes(self.array()?)),
            6 => Value::F32(f32::from_le_bytes(self.array()?)),
            7 => match self.array::<1>()?[0] {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                b => return Err(Error::corrupt(format!("bool byte {b}"))),
            },
            8 => Value::Str(self.string()?),
            9 => {
                if depth >= MAX_DEPTH {
                    return Err(Error::corrupt("metadata arrays nested too deeply"));
                }
                let item_ty = self.u32()?;
                let n = self.count(min_value_bytes(item_ty))?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.value(item_ty, depth + 1)?);
                }
                Value::Array(items)
            }
            10 => Value::U64(self.u64()?),
            11 => Value::I64(i64::from_le_bytes(self.array()?)),
            12 => Value::F64(f64::from_le_bytes(self.array()?)),
            other => return Err(Error::corrupt(format!("metadata value type {other}"))),
        })
    }
}

fn min_value_bytes(ty: u32) -> usize {
    match ty {
        0 | 1 | 7 => 1,
        2 | 3 => 2,
        4..=6 => 4,
        8 | 10..=12 => 8,
        9 => 12,
        _ => 1,
    }
}

/// Parses and validates a whole GGUF file held in memory.
pub fn parse(bytes: &[u8]) -> Result<Gguf<'_>> {
    let mut c = Cursor { bytes, pos: 0 };
    if c.take(4)? != MAGIC {
        return Err(Error::UnknownFormat);
    }
    let version = c.u32()?;
    if !(2..=3).contains(&version) {
        return Err(Error::corrupt(format!("GGUF version {version}")));
    }
    // A tensor entry is at least 8 (name) + 4 + 8 + 4 + 8 bytes.
    let n_tensors = c.count(32)?;
    let n_kv = c.count(12)?;

    let mut metadata = Vec::with_capacity(n_kv);
    for _ in 0..n_kv {
        let key = c.string()?;
        let ty = c.u32()?;
        let value = c.value(ty, 0)?;
        metadata.push((key, value));
    }

    let alignment = match metadata.iter().find(|(k, _)| k == "general.alignment") {
        None => DEFAULT_ALIGNMENT,
        Some((_, v)) => v
            .as_u64()
            .filter(|a| a.is_power_of_two())
            .ok_or_else(|| Error::corrupt("general.alignment is not a power of two"))?,
    };

    struct Raw {
        name: String,
        dims: Vec<u64>,
        ty: GgmlType,
        rel_offset: u64,
    }
    let mut raws = Vec::with_capacity(n_tensors);
    for _ in 0..n_tensors {
        let name = c.string()?;
        let n_dims = c.u32()?;
        if n_dims == 0 || n_dims > MAX_DIMS {
            return Err(Error::corrupt(format!("tensor {name}: {n_dims} dimensions")));
        }
        let mut dims = Vec::with_capacity(n_dims as usize);
        for _ in 0..n_dims {
            dims.push(c.u64()?);
        }
        let ty = GgmlType::from_id(c.u32()?);
        let rel_offset = c.u64()?;
        raws.push(Raw { name, dims, ty, rel_offset });
    }

    let data_start =
        (c.pos as u64).checked_next_multiple_of(alignment).ok_or_else(|| Error::corrupt("data offset overflows"))?;
    let file_len = bytes.len() as u64;
    if data_start > file_len {
        return Err(Error::corrupt("tensor data section starts past the end"));
    }

    let mut tensors = Vec::with_capacity(raws.len());
    for r in raws {
        let n_elements = r
            .dims
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| Error::corrupt(format!("tensor {}: size overflows", r.name)))?;
        // Unknown types get a zero-length view; using them is an error later.
        let n_bytes = match r.ty {
            GgmlType::Other(_) => 0,
            ty => ty.bytes_for(n_elements).ok_or_else(|| {
                Error::corrupt(format!("tensor {}: {n_elements} elements is not whole {ty} blocks", r.name))
            })?,
        };
        let start = data_start
            .checked_add(r.rel_offset)
            .filter(|s| s.checked_add(n_bytes).is_some_and(|e| e <= file_len))
            .ok_or_else(|| Error::corrupt(format!("tensor {}: data out of bounds", r.name)))?;
        if tensors.iter().any(|t: &TensorInfo| t.name == r.name) {
            return Err(Error::corrupt(format!("duplicate tensor {}", r.name)));
        }
        tensors.push(TensorInfo {
            name: r.name,
            dims: r.dims,
            ty: r.ty,
            offset: usize::try_from(start).map_err(|_| Error::corrupt("offset overflow"))?,
            n_bytes: usize::try_from(n_bytes).map_err(|_| Error::corrupt("size overflow"))?,
        });
    }

    Ok(Gguf { version, metadata, tensors, bytes })
}

//! safetensors container: `u64 LE header length`, a JSON header mapping
//! tensor names to `{dtype, shape, data_offsets}`, then the data. A
//! validating reader and a small writer (for the test models).

use crate::error::{Error, Result};
use crate::gguf::GgmlType;
use crate::json::{self, Json};

/// Headers larger than this are rejected before parsing.
const MAX_HEADER: u64 = 100 << 20;

#[derive(Clone, Debug)]
pub struct SafeTensor {
    pub name: String,
    pub dtype: String,
    /// Row-major, outermost first (the reverse of GGML's order).
    pub shape: Vec<usize>,
    /// Absolute byte range in the file, checked to be in bounds.
    pub offset: usize,
    pub n_bytes: usize,
}

impl SafeTensor {
    /// The dtype as a GGML type, when it is one we decode.
    pub fn ggml_type(&self) -> Option<GgmlType> {
        match self.dtype.as_str() {
            "F32" => Some(GgmlType::F32),
            "F16" => Some(GgmlType::F16),
            "BF16" => Some(GgmlType::BF16),
            _ => None,
        }
    }
}

#[derive(Debug)]
pub struct SafeTensors<'a> {
    pub tensors: Vec<SafeTensor>,
    pub bytes: &'a [u8],
}

impl<'a> SafeTensors<'a> {
    pub fn get(&self, name: &str) -> Option<&SafeTensor> {
        self.tensors.iter().find(|t| t.name == name)
    }

    pub fn data(&self, t: &SafeTensor) -> Option<&'a [u8]> {
        self.bytes.get(t.offset..t.offset.checked_add(t.n_bytes)?)
    }
}

fn dtype_size(dtype: &str) -> Option<usize> {
    Some(match dtype {
        "F64" | "I64" | "U64" => 8,
        "F32" | "I32" | "U32" => 4,
        "F16" | "BF16" | "I16" | "U16" => 2,
        "I8" | "U8" | "BOOL" | "F8_E4M3" | "F8_E5M2" => 1,
        _ => return None,
    })
}

/// True when the bytes start like a safetensors file.
pub fn looks_like(bytes: &[u8]) -> bool {
    let Some(len) = bytes.get(..8) else {
        return false;
    };
    let mut b = [0u8; 8];
    b.copy_from_slice(len);
    let n = u64::from_le_bytes(b);
    n >= 2 && n <= (bytes.len() as u64).saturating_sub(8) && bytes.get(8) == Some(&b'{')
}

pub fn parse(bytes: &[u8]) -> Result<SafeTensors<'_>> {
    if !looks_like(bytes) {
        return Err(Error::UnknownFormat);
    }
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[..8]);
    let n = u64::from_le_bytes(b);
    if n > MAX_HEADER {
        return Err(Error::corrupt("safetensors header too large"));
    }
    let data_start = 8 + n as usize;
    let header = json::parse(&bytes[8..data_start])?;
    let entries = header.as_object().ok_or_else(|| Error::corrupt("safetensors header is not an object"))?;
    let data_len = bytes.len() - data_start;
    let mut tensors = Vec::with_capacity(entries.len());
    for (name, info) in entries {
        if name == "__metadata__" {
            continue;
        }
        let bad = |what: &str| Error::corrupt(format!("safetensors tensor {name}: {what}"));
        let dtype = info.get("dtype").and_then(Json::as_str).ok_or_else(|| bad("no dtype"))?.to_owned();
        let shape = info
            .get("shape")
            .and_then(Json::as_array)
            .ok_or_else(|| bad("no shape"))?
            .iter()
            .map(|d| d.as_u64().and_then(|d| usize::try_from(d).ok()).ok_or_else(|| bad("shape")))
            .collect::<Result<Vec<usize>>>()?;
        let offs = info.get("data_offsets").and_then(Json::as_array).ok_or_else(|| bad("no data_offsets"))?;
        let (begin, end) = match offs {
            [a, b] => (a.as_u64().ok_or_else(|| bad("offset"))?, b.as_u64().ok_or_else(|| bad("offset"))?),
            _ => return Err(bad("data_offsets")),
        };
        if begin > end || end > data_len as u64 {
            return Err(bad("data out of bounds"));
        }
        let n_bytes = (end - begin) as usize;
        if let Some(size) = dtype_size(&dtype) {
            let want =
                shape.iter().try_fold(size, |acc, &d| acc.checked_mul(d)).ok_or_else(|| bad("size overflows"))?;
            if want != n_bytes {
                return Err(bad("byte length does not match shape"));
            }
        }
        tensors.push(SafeTensor { name: name.clone(), dtype, shape, offset: data_start + begin as usize, n_bytes });
    }
    Ok(SafeTensors { tensors, bytes })
}

/// Writes tensors in the order added, with a sorted-key-free header (the
/// format doesn't require sorting).
#[derive(Default)]
pub struct SafetensorsWriter {
    tensors: Vec<(String, &'static str, Vec<usize>, Vec<u8>)>,
}

impl SafetensorsWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// `dtype` is "F32", "F16" or "BF16"; `data` already encoded.
    pub fn tensor(&mut self, name: &str, dtype: &'static str, shape: &[usize], data: Vec<u8>) -> &mut Self {
        self.tensors.push((name.to_owned(), dtype, shape.to_vec(), data));
        self
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut header = String::from("{");
        let mut offset = 0usize;
        for (i, (name, dtype, shape, data)) in self.tensors.iter().enumerate() {
            if i > 0 {
                header.push(',');
            }
            let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
            header.push_str(&format!(
                "{}:{{\"dtype\":\"{dtype}\",\"shape\":[{}],\"data_offsets\":[{offset},{}]}}",
                json::quote(name),
                dims.join(","),
                offset + data.len()
            ));
            offset += data.len();
        }
        header.push('}');
        // Pad the header with spaces to 8 bytes, as the reference writer does.
        while header.len() % 8 != 0 {
            header.push(' ');
        }
        let mut out = Vec::with_capacity(8 + header.len() + offset);
        out.extend_from_slice(&(header.len() as u64).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        for (_, _, _, data) in &self.tensors {
            out.extend_from_slice(data);
        }
        out
    }
}

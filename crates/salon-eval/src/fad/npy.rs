//! A reader for NumPy `.npy` files holding a 2-D float32 or float64 array (embeddings [n, d]),
//! little- or big-endian, C or Fortran order, format versions 1 to 3.

use super::{Embeddings, FadError};
use std::path::Path;

/// Reads a 2-D float32/float64 `.npy` file as [n, d] embeddings (values widened to f64).
pub fn read_embeddings(path: &Path) -> Result<Embeddings, FadError> {
    let bytes = std::fs::read(path).map_err(|e| FadError::io(path, e))?;
    parse_embeddings(&bytes).map_err(|why| FadError::Npy {
        path: path.display().to_string(),
        why,
    })
}

/// Parses the bytes of a `.npy` file (see [`read_embeddings`]); the reason on failure.
pub fn parse_embeddings(bytes: &[u8]) -> Result<Embeddings, String> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err("not a .npy file (no \\x93NUMPY magic); save with numpy.save".into());
    }
    let major = bytes[6];
    let (header_len, start) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err("truncated .npy header".into());
            }
            let n = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
            (n, 12)
        }
        v => {
            return Err(format!(
                ".npy format version {v} is not supported (1 to 3 are)"
            ))
        }
    };
    let header = bytes
        .get(start..start + header_len)
        .ok_or("truncated .npy header")?;
    let header = std::str::from_utf8(header).map_err(|_| "the .npy header is not text")?;
    let descr = dict_value(header, "descr").ok_or("the .npy header has no 'descr'")?;
    let fortran =
        dict_value(header, "fortran_order").ok_or("the .npy header has no 'fortran_order'")?;
    let shape = dict_value(header, "shape").ok_or("the .npy header has no 'shape'")?;
    let descr = descr.trim_matches(|c| c == '\'' || c == '"');
    let (little, width) = match descr {
        "<f4" | "=f4" => (true, 4),
        ">f4" => (false, 4),
        "<f8" | "=f8" => (true, 8),
        ">f8" => (false, 8),
        other => {
            return Err(format!(
                "dtype {other} is not supported: save the embeddings as float32 or float64"
            ))
        }
    };
    let fortran = match fortran {
        "True" => true,
        "False" => false,
        other => return Err(format!("bad fortran_order {other}")),
    };
    let dims: Vec<usize> = shape
        .trim_start_matches('(')
        .trim_end_matches(')')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| format!("bad shape entry {s:?}"))
        })
        .collect::<Result<_, _>>()?;
    let [rows, dim] = dims[..] else {
        return Err(format!(
            "the array has shape {shape}; embeddings must be 2-D [n, d]"
        ));
    };
    let body = &bytes[start + header_len..];
    let count = rows * dim;
    if body.len() < count * width {
        return Err(format!(
            "the data holds {} bytes, {rows} x {dim} x {width} needed (file truncated?)",
            body.len()
        ));
    }
    let value = |k: usize| -> f64 {
        let b = &body[k * width..(k + 1) * width];
        match (width, little) {
            (4, true) => f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
            (4, false) => f32::from_be_bytes([b[0], b[1], b[2], b[3]]) as f64,
            (_, true) => f64::from_le_bytes(b.try_into().expect("8 bytes")),
            (_, false) => f64::from_be_bytes(b.try_into().expect("8 bytes")),
        }
    };
    let data: Vec<f64> = if fortran {
        (0..count)
            .map(|k| value((k % dim) * rows + k / dim))
            .collect()
    } else {
        (0..count).map(value).collect()
    };
    Embeddings::new(rows, dim, data).map_err(|e| e.to_string())
}

/// The raw text of `key`'s value in a Python dict literal such as the .npy header.
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let at = header
        .find(&format!("'{key}'"))
        .or_else(|| header.find(&format!("\"{key}\"")))?;
    let rest = &header[at + key.len() + 2..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    let end = if rest.starts_with('(') {
        rest.find(')')? + 1
    } else {
        rest.find([',', '}']).unwrap_or(rest.len())
    };
    Some(rest[..end].trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A .npy file as numpy 1.x/2.x writes it (version 1.0, header padded to 64 bytes).
    fn npy(descr: &str, fortran: bool, shape: &str, body: &[u8]) -> Vec<u8> {
        let mut header = format!(
            "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}",
            if fortran { "True" } else { "False" }
        );
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend((header.len() as u16).to_le_bytes());
        out.extend(header.as_bytes());
        out.extend(body);
        out
    }

    #[test]
    fn reads_float32_and_float64_in_both_orders() {
        let vals = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        let body: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
        let e = parse_embeddings(&npy("<f4", false, "(2, 3)", &body)).unwrap();
        assert_eq!((e.rows, e.dim), (2, 3));
        assert_eq!(e.row(1), &[4.0, 5.0, 6.0]);
        // Fortran order stores columns: the same bytes read as [[1, 3, 5], [2, 4, 6]].
        let f = parse_embeddings(&npy("<f4", true, "(2, 3)", &body)).unwrap();
        assert_eq!(f.row(0), &[1.0, 3.0, 5.0]);
        let body64: Vec<u8> = vals
            .iter()
            .flat_map(|&v| (v as f64).to_be_bytes())
            .collect();
        let g = parse_embeddings(&npy(">f8", false, "(3, 2)", &body64)).unwrap();
        assert_eq!(g.row(2), &[5.0, 6.0]);
    }

    #[test]
    fn rejects_what_is_not_a_float_matrix() {
        let body = [0u8; 24];
        assert!(parse_embeddings(b"PK\x03\x04 not numpy").is_err());
        let one_d = parse_embeddings(&npy("<f4", false, "(6,)", &body)).unwrap_err();
        assert!(one_d.contains("2-D"), "{one_d}");
        let ints = parse_embeddings(&npy("<i8", false, "(1, 3)", &body)).unwrap_err();
        assert!(ints.contains("float32"), "{ints}");
        let short = parse_embeddings(&npy("<f8", false, "(2, 3)", &body)).unwrap_err();
        assert!(short.contains("truncated"), "{short}");
    }
}

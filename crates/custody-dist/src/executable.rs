//! Executables recognized by their magic bytes (PE, ELF, Mach-O and universal Mach-O)
//! and checked for a sane header: the `.exe` a PyInstaller build produces must at least
//! be a well-formed program for the architecture it claims.

use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::problem::Problem;

/// Executable container formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ExecutableFormat {
    Pe,
    Elf,
    MachO,
    MachOUniversal,
}

/// What the header says about an executable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExecutableInfo {
    pub format: ExecutableFormat,
    /// `x86`, `x86_64`, `arm64`, `arm`, ... (several, comma-separated, for universal
    /// binaries).
    pub arch: String,
    pub bits: u8,
    /// What kind of image: `executable`, `shared-library`, ...
    pub image: String,
    /// A recognised bundle appended to the program (`pyinstaller`, `zip`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle: Option<String>,
}

/// The format the first bytes announce, if any.
pub fn sniff(head: &[u8]) -> Option<ExecutableFormat> {
    match head {
        [b'M', b'Z', ..] => Some(ExecutableFormat::Pe),
        [0x7f, b'E', b'L', b'F', ..] => Some(ExecutableFormat::Elf),
        [0xfe, 0xed, 0xfa, 0xce | 0xcf, ..] | [0xce | 0xcf, 0xfa, 0xed, 0xfe, ..] => {
            Some(ExecutableFormat::MachO)
        }
        // 0xcafebabe is also a Java class file; a universal binary has a small arch count
        // where a class file has its version (>= 45).
        [0xca, 0xfe, 0xba, 0xbe, a, b, c, d, ..] => {
            let count = u32::from_be_bytes([*a, *b, *c, *d]);
            (1..=30)
                .contains(&count)
                .then_some(ExecutableFormat::MachOUniversal)
        }
        _ => None,
    }
}

/// Reads the header of the executable at `path`. Returns the info, or the problem that
/// makes the header insane.
pub fn inspect(path: &Path) -> io::Result<Result<ExecutableInfo, Problem>> {
    let mut file = fs_err::File::open(path)?;
    let size = file.metadata()?.len();
    let mut head = vec![0u8; 4096];
    let n = read_up_to(&mut file, &mut head)?;
    head.truncate(n);
    let Some(format) = sniff(&head) else {
        return Ok(Err(Problem::error(
            "exe-header",
            "has no executable header (PE, ELF or Mach-O magic bytes)",
        )
        .hint(
            "the file is not a program, or was truncated or corrupted; rebuild it",
        )));
    };
    let parsed = match format {
        ExecutableFormat::Pe => pe(&mut file, size, &head)?,
        ExecutableFormat::Elf => elf(size, &head),
        ExecutableFormat::MachO => macho(&head),
        ExecutableFormat::MachOUniversal => universal(size, &head),
    };
    let mut info = match parsed {
        Ok(info) => info,
        Err(message) => {
            return Ok(Err(Problem::error("exe-header", message)
                .hint("the file was truncated or corrupted; rebuild it")));
        }
    };
    info.bundle = bundle(&mut file, size)?;
    Ok(Ok(info))
}

/// Fills `buffer` from `reader` as far as the reader goes; returns how many bytes came.
pub(crate) fn read_up_to(reader: &mut impl Read, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

fn u16_le(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u32_le(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn pe(
    file: &mut fs_err::File,
    size: u64,
    head: &[u8],
) -> io::Result<Result<ExecutableInfo, String>> {
    let Some(offset) = u32_le(head, 0x3c) else {
        return Ok(Err(
            "has a DOS header too short to point at a PE header".to_owned()
        ));
    };
    if offset < 0x40 || u64::from(offset) + 24 > size {
        return Ok(Err(format!(
            "has a PE header offset ({offset:#x}) outside the file ({size} bytes)"
        )));
    }
    file.seek(SeekFrom::Start(u64::from(offset)))?;
    let mut header = [0u8; 26];
    let n = read_up_to(file, &mut header)?;
    if n < 26 || &header[..4] != b"PE\0\0" {
        return Ok(Err(
            "has an MZ header but no `PE\\0\\0` signature (a DOS program, or corrupt)".to_owned(),
        ));
    }
    let machine = u16_le(&header, 4).unwrap_or(0);
    let sections = u16_le(&header, 6).unwrap_or(0);
    let optional_size = u16_le(&header, 20).unwrap_or(0);
    let characteristics = u16_le(&header, 22).unwrap_or(0);
    let magic = u16_le(&header, 24).unwrap_or(0);
    let arch = match machine {
        0x14c => "x86",
        0x8664 => "x86_64",
        0xaa64 => "arm64",
        0x1c0 | 0x1c4 => "arm",
        0x200 => "ia64",
        other => return Ok(Err(format!("has an unknown PE machine type {other:#06x}"))),
    };
    let (bits, minimum_optional) = match magic {
        0x10b => (32, 96),
        0x20b => (64, 112),
        other => {
            return Ok(Err(format!(
                "has an unknown PE optional-header magic {other:#06x}"
            )));
        }
    };
    if sections == 0 {
        return Ok(Err("has a PE header with no sections".to_owned()));
    }
    if optional_size < minimum_optional {
        return Ok(Err(format!(
            "has a PE optional header of {optional_size} bytes, too small for PE{bits}"
        )));
    }
    if characteristics & 0x0002 == 0 {
        return Ok(Err(
            "has a PE header not marked as an executable image".to_owned()
        ));
    }
    let image = if characteristics & 0x2000 != 0 {
        "shared-library"
    } else {
        "executable"
    };
    Ok(Ok(ExecutableInfo {
        format: ExecutableFormat::Pe,
        arch: arch.to_owned(),
        bits,
        image: image.to_owned(),
        bundle: None,
    }))
}

fn elf(size: u64, head: &[u8]) -> Result<ExecutableInfo, String> {
    if head.len() < 52 {
        return Err("has an ELF header shorter than 52 bytes".to_owned());
    }
    let bits = match head[4] {
        1 => 32,
        2 => 64,
        other => return Err(format!("has an invalid ELF class {other}")),
    };
    let little = match head[5] {
        1 => true,
        2 => false,
        other => return Err(format!("has an invalid ELF data encoding {other}")),
    };
    if head[6] != 1 {
        return Err(format!("has ELF version {}, expected 1", head[6]));
    }
    let read16 = |at: usize| {
        let b = [head[at], head[at + 1]];
        if little {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        }
    };
    let kind = read16(16);
    let machine = read16(18);
    let header_size = read16(if bits == 64 { 52 } else { 40 });
    let expected_header = if bits == 64 { 64 } else { 52 };
    if header_size != expected_header || size < u64::from(expected_header) {
        return Err(format!(
            "has an ELF header size of {header_size}, expected {expected_header}"
        ));
    }
    let arch = match machine {
        3 => "x86",
        0x3e => "x86_64",
        0xb7 => "arm64",
        0x28 => "arm",
        0x15 => "ppc64",
        0x16 => "s390x",
        0xf3 => "riscv",
        other => return Err(format!("has an unknown ELF machine {other:#x}")),
    };
    let image = match kind {
        2 => "executable",
        3 => "shared-library",
        1 => "relocatable",
        other => return Err(format!("has ELF type {other}, not a program")),
    };
    Ok(ExecutableInfo {
        format: ExecutableFormat::Elf,
        arch: arch.to_owned(),
        bits,
        image: image.to_owned(),
        bundle: None,
    })
}

fn macho_arch(cputype: u32) -> Option<(&'static str, u8)> {
    Some(match cputype {
        7 => ("x86", 32),
        0x0100_0007 => ("x86_64", 64),
        12 => ("arm", 32),
        0x0100_000c => ("arm64", 64),
        0x0200_000c => ("arm64_32", 32),
        _ => return None,
    })
}

fn macho(head: &[u8]) -> Result<ExecutableInfo, String> {
    if head.len() < 28 {
        return Err("has a Mach-O header shorter than 28 bytes".to_owned());
    }
    let big = head[0] == 0xfe;
    let read32 = |at: usize| {
        let b = [head[at], head[at + 1], head[at + 2], head[at + 3]];
        if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    };
    let cputype = read32(4);
    let (arch, bits) = macho_arch(cputype)
        .ok_or_else(|| format!("has an unknown Mach-O CPU type {cputype:#x}"))?;
    let image = match read32(12) {
        2 => "executable",
        6 => "shared-library",
        8 => "bundle",
        other => return Err(format!("has Mach-O file type {other}, not a program")),
    };
    if read32(16) == 0 {
        return Err("has a Mach-O header with no load commands".to_owned());
    }
    Ok(ExecutableInfo {
        format: ExecutableFormat::MachO,
        arch: arch.to_owned(),
        bits,
        image: image.to_owned(),
        bundle: None,
    })
}

/// A universal (fat) binary: each `fat_arch` record (CPU type, subtype, offset, size,
/// alignment; big-endian) must name a known CPU and a slice inside the file.
fn universal(size: u64, head: &[u8]) -> Result<ExecutableInfo, String> {
    let count = u32::from_be_bytes(
        head[4..8]
            .try_into()
            .map_err(|_| "short header".to_owned())?,
    ) as usize;
    let mut arches = Vec::new();
    for i in 0..count {
        let at = 8 + i * 20;
        let Some(record) = head.get(at..at + 20) else {
            return Err(format!(
                "has a universal header listing {count} architectures but is too short"
            ));
        };
        let field =
            |k: usize| u32::from_be_bytes([record[k], record[k + 1], record[k + 2], record[k + 3]]);
        let cputype = field(0);
        let (arch, _) = macho_arch(cputype)
            .ok_or_else(|| format!("has an unknown Mach-O CPU type {cputype:#x}"))?;
        let (offset, length) = (u64::from(field(8)), u64::from(field(12)));
        if offset == 0 || length == 0 || offset + length > size {
            return Err(format!(
                "has a universal header whose {arch} slice (offset {offset}, {length} bytes) lies outside the file of {size} bytes"
            ));
        }
        arches.push(arch);
    }
    Ok(ExecutableInfo {
        format: ExecutableFormat::MachOUniversal,
        arch: arches.join(","),
        bits: 64,
        image: "executable".to_owned(),
        bundle: None,
    })
}

/// PyInstaller appends an archive whose cookie starts with `MEI\x0c\x0b\x0a\x0b\x0e`;
/// `bdist_wininst` installers append a zip. Either sits near the end of the file,
/// before an optional Authenticode signature.
fn bundle(file: &mut fs_err::File, size: u64) -> io::Result<Option<String>> {
    const TAIL: u64 = 64 * 1024;
    let start = size.saturating_sub(TAIL);
    file.seek(SeekFrom::Start(start))?;
    let mut tail = Vec::new();
    file.take(TAIL).read_to_end(&mut tail)?;
    let contains = |needle: &[u8]| tail.windows(needle.len()).any(|w| w == needle);
    Ok(if contains(b"MEI\x0c\x0b\x0a\x0b\x0e") {
        Some("pyinstaller".to_owned())
    } else if contains(b"PK\x05\x06") {
        Some("zip".to_owned())
    } else {
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing() {
        assert_eq!(sniff(b"MZ\x90\0"), Some(ExecutableFormat::Pe));
        assert_eq!(sniff(b"\x7fELF\x02"), Some(ExecutableFormat::Elf));
        assert_eq!(
            sniff(&[0xcf, 0xfa, 0xed, 0xfe]),
            Some(ExecutableFormat::MachO)
        );
        assert_eq!(
            sniff(&[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2]),
            Some(ExecutableFormat::MachOUniversal)
        );
        // A Java class file (version 52) is not a universal binary.
        assert_eq!(sniff(&[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52]), None);
        assert_eq!(sniff(b"PK\x03\x04"), None);
    }

    /// A universal header with `x86_64` and `arm64` slices at the given offsets and sizes.
    fn fat_header(slices: [(u32, u32); 2]) -> Vec<u8> {
        let mut head = vec![0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2];
        for ((offset, size), cputype) in slices.into_iter().zip([0x0100_0007u32, 0x0100_000c]) {
            for field in [cputype, 3, offset, size, 14] {
                head.extend_from_slice(&field.to_be_bytes());
            }
        }
        head
    }

    #[test]
    fn universal_slices_must_lie_inside_the_file() {
        let head = fat_header([(0x4000, 0x1000), (0x8000, 0x1000)]);
        let info = universal(0x9000, &head).unwrap();
        assert_eq!(info.arch, "x86_64,arm64");
        let error = universal(0x8800, &head).unwrap_err();
        assert_eq!(
            error,
            "has a universal header whose arm64 slice (offset 32768, 4096 bytes) lies outside the file of 34816 bytes"
        );
        assert!(universal(0x9000, &fat_header([(0, 0x1000), (0x8000, 0x1000)])).is_err());
    }
}

//! A tar sdist read header by header the way Python's `tarfile` (what pip extracts
//! with) reads it, refusing every header that `tarfile`, GNU tar and the `tar` crate
//! would read differently (name prefixes outside ustar, pax sizes, data after links and
//! directories, sparse and unknown member types), and building the tree an extractor
//! creates: paths, and for each file its size and sha256.

use std::io::Read;

use crate::problem::{Problem, link_stays_inside, unsafe_member_path};
use crate::sdist::{self, Listing, ReadFileError, TreeNode};

/// More members than any real sdist has (the largest hold tens of thousands); past it,
/// the archive is refused so that the tree kept in memory stays small.
const MAX_MEMBERS: usize = 200_000;
/// A GNU long name or a pax header larger than this is refused.
const MAX_EXTENDED_HEADER: u64 = 1024 * 1024;
/// `PKG-INFO` larger than this is not read (and is refused by the layout check).
pub(crate) const MAX_PKG_INFO_BYTES: u64 = 16 * 1024 * 1024;

/// Extended headers seen before the member they describe.
#[derive(Debug, Default)]
struct Pending {
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
    pax: Option<Pax>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.long_name.is_none() && self.long_link.is_none() && self.pax.is_none()
    }
}

/// The pax keywords that change what gets extracted.
#[derive(Debug, Default)]
struct Pax {
    path: Option<Vec<u8>>,
    linkpath: Option<Vec<u8>>,
    size: Option<u64>,
}

/// What one raw header turned out to be.
enum Header {
    Extension,
    Member(Member),
}

/// A member with its extended headers applied, as `tarfile` names it.
struct Member {
    name: Vec<u8>,
    link: Vec<u8>,
    kind: u8,
    size: u64,
}

/// Reads every member of `archive` into `listing`. An `Err` means the stream cannot be
/// read on (damaged, or over a cap); refusals of single members are `problems`.
pub(crate) fn list<R: Read>(
    archive: &mut tar::Archive<R>,
    listing: &mut Listing,
    problems: &mut Vec<Problem>,
) -> std::io::Result<()> {
    let mut pending = Pending::default();
    let mut members = 0usize;
    for entry in archive.entries()?.raw(true) {
        let mut entry = entry?;
        let Some(Header::Member(member)) = read_header(&mut entry, &mut pending, problems)? else {
            continue;
        };
        members += 1;
        if members > MAX_MEMBERS {
            problems.push(Problem::error(
                "zip-bomb",
                format!("has more than {MAX_MEMBERS} members"),
            ));
            return Ok(());
        }
        add_member(&mut entry, member, listing, problems)?;
    }
    if !pending.is_empty() {
        problems.push(header_problem(
            "ends with an extended header that describes no member",
        ));
    }
    Ok(())
}

fn header_problem(message: impl Into<String>) -> Problem {
    Problem::error("sdist-tar-header", message.into()).hint(
        "tar readers disagree on what this archive holds; rebuild the sdist with `python -m build --sdist`",
    )
}

/// Reads one raw header: an extended header is kept in `pending`, a member gets them
/// applied. `None` when the header is refused (its problem is recorded).
fn read_header<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    pending: &mut Pending,
    problems: &mut Vec<Problem>,
) -> std::io::Result<Option<Header>> {
    let raw = *entry.header().as_bytes();
    let kind = raw[156];
    let size = entry.size();
    match kind {
        b'L' | b'K' | b'x' | b'X' | b'g' => {
            if size > MAX_EXTENDED_HEADER {
                problems.push(header_problem(format!(
                    "has an extended header of {size} bytes"
                )));
                return Ok(None);
            }
            let mut data = Vec::new();
            entry.read_to_end(&mut data)?;
            Ok(read_extension(kind, &data, pending, problems).then_some(Header::Extension))
        }
        _ => Ok(resolve_member(&raw, size, std::mem::take(pending), problems).map(Header::Member)),
    }
}

/// Keeps a GNU long name/link or a pax header for the next member; false if refused.
fn read_extension(
    kind: u8,
    data: &[u8],
    pending: &mut Pending,
    problems: &mut Vec<Problem>,
) -> bool {
    let duplicate = match kind {
        b'L' => pending.long_name.replace(nts(data).to_vec()).is_some(),
        b'K' => pending.long_link.replace(nts(data).to_vec()).is_some(),
        b'g' => return check_global_pax(data, problems),
        _ => match parse_pax(data) {
            Ok(pax) => pending.pax.replace(pax).is_some(),
            Err(reason) => {
                problems.push(header_problem(format!("has a pax header that {reason}")));
                return false;
            }
        },
    };
    if duplicate {
        problems.push(header_problem(
            "has two extended headers of one kind for one member",
        ));
    }
    !duplicate
}

/// A global pax header applies to every later member in `tarfile`; one that renames,
/// resizes or makes members sparse is refused (`comment`, as `git archive` writes, and
/// times or owners are harmless).
fn check_global_pax(data: &[u8], problems: &mut Vec<Problem>) -> bool {
    const HARMLESS: [&[u8]; 8] = [
        b"comment", b"mtime", b"atime", b"ctime", b"uid", b"gid", b"uname", b"gname",
    ];
    match pax_records(data) {
        Ok(records) => {
            if let Some((key, _)) = records.iter().find(|(key, _)| !HARMLESS.contains(key)) {
                problems.push(header_problem(format!(
                    "has a global pax header setting `{}` for every later member",
                    String::from_utf8_lossy(key).escape_debug()
                )));
                return false;
            }
            true
        }
        Err(reason) => {
            problems.push(header_problem(format!("has a pax header that {reason}")));
            false
        }
    }
}

/// One `KEY=VALUE` record of a pax header.
type PaxRecord<'a> = (&'a [u8], &'a [u8]);

/// The records `LEN KEY=VALUE\n` of a pax header, strictly.
fn pax_records(data: &[u8]) -> Result<Vec<PaxRecord<'_>>, &'static str> {
    let mut records = Vec::new();
    let mut rest = data;
    while !rest.is_empty() && rest[0] != 0 {
        let space = rest.iter().position(|b| *b == b' ').ok_or("is malformed")?;
        let length: usize = std::str::from_utf8(&rest[..space])
            .ok()
            .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|digits| digits.parse().ok())
            .ok_or("is malformed")?;
        if length <= space + 1 || length > rest.len() || rest[length - 1] != b'\n' {
            return Err("is malformed");
        }
        let record = &rest[space + 1..length - 1];
        let equals = record
            .iter()
            .position(|b| *b == b'=')
            .ok_or("is malformed")?;
        records.push((&record[..equals], &record[equals + 1..]));
        rest = &rest[length..];
    }
    Ok(records)
}

/// The pax keywords that matter; sparse files and other charsets are refused.
fn parse_pax(data: &[u8]) -> Result<Pax, &'static str> {
    let mut pax = Pax::default();
    for (key, value) in pax_records(data)? {
        match key {
            b"path" => set_once(&mut pax.path, value.to_vec())?,
            b"linkpath" => set_once(&mut pax.linkpath, value.to_vec())?,
            b"size" => {
                let size = std::str::from_utf8(value)
                    .ok()
                    .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|v| v.parse().ok())
                    .ok_or("has an invalid `size`")?;
                set_once(&mut pax.size, size)?;
            }
            b"hdrcharset" if value != b"ISO-IR 10646 2000 UTF-8" => {
                return Err("sets a charset other than UTF-8");
            }
            key if key.starts_with(b"GNU.sparse.") => return Err("describes a sparse file"),
            _ => {}
        }
    }
    Ok(pax)
}

fn set_once<T>(slot: &mut Option<T>, value: T) -> Result<(), &'static str> {
    match slot.replace(value) {
        Some(_) => Err("sets a keyword twice"),
        None => Ok(()),
    }
}

/// Bytes up to the first NUL, as `tarfile.nts` reads text fields.
fn nts(field: &[u8]) -> &[u8] {
    field
        .iter()
        .position(|b| *b == 0)
        .map_or(field, |end| &field[..end])
}

/// Applies the extended headers to the member's own header, the way `tarfile` does,
/// and refuses what other readers would see differently.
fn resolve_member(
    raw: &[u8; 512],
    size: u64,
    pending: Pending,
    problems: &mut Vec<Problem>,
) -> Option<Member> {
    let kind = raw[156];
    let header_name = nts(&raw[..100]);
    let prefix = nts(&raw[345..500]);
    let is_ustar = &raw[257..263] == b"ustar\0" && &raw[263..265] == b"00";
    let shown = String::from_utf8_lossy(header_name).into_owned();
    // `tarfile` joins the prefix field whatever the magic; GNU tar and the tar crate
    // only in a POSIX ustar header.
    if !prefix.is_empty() && !is_ustar && !matches!(kind, b'L' | b'K' | b'S') {
        problems.push(header_problem(format!(
            "member `{}` has a name prefix outside a ustar header, which tar readers apply differently",
            shown.escape_debug()
        )));
        return None;
    }
    let pax = pending.pax.unwrap_or_default();
    if pending.long_name.is_some() && pax.path.is_some()
        || pending.long_link.is_some() && pax.linkpath.is_some()
    {
        problems.push(header_problem(format!(
            "member `{}` is named by both a GNU long name and a pax header",
            shown.escape_debug()
        )));
        return None;
    }
    if let Some(pax_size) = pax.size.filter(|pax_size| *pax_size != size) {
        problems.push(header_problem(format!(
            "member `{}` has a pax size of {pax_size} bytes and a header size of {size}",
            shown.escape_debug()
        )));
        return None;
    }
    let mut name = if prefix.is_empty() {
        header_name.to_vec()
    } else {
        [prefix, b"/", header_name].concat()
    };
    if let Some(long) = pending.long_name.or(pax.path) {
        name = long;
    }
    let link = pending
        .long_link
        .or(pax.linkpath)
        .unwrap_or_else(|| nts(&raw[157..257]).to_vec());
    // Old tar writers mark a directory as a regular file whose name ends in `/`.
    let kind = if kind == 0 && name.ends_with(b"/") {
        b'5'
    } else {
        kind
    };
    Some(Member {
        name,
        link,
        kind,
        size,
    })
}

/// Normalizes a member path as the file system resolves it: `a//./b/` is `a/b`.
fn normalize(path: &str) -> String {
    path.split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// Checks a member's name and type and adds it to the tree.
fn add_member<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    member: Member,
    listing: &mut Listing,
    problems: &mut Vec<Problem>,
) -> std::io::Result<()> {
    let Ok(raw_name) = String::from_utf8(member.name) else {
        problems.push(Problem::error(
            "sdist-name-encoding",
            "has a member name that is not UTF-8",
        ));
        return Ok(());
    };
    let shown = raw_name.escape_debug();
    if let Some(reason) = unsafe_member_path(&raw_name) {
        problems.push(
            Problem::error("path-unsafe", format!("member `{shown}` {reason}"))
                .hint("an extractor could write outside its target directory; rebuild the sdist"),
        );
        return Ok(());
    }
    let name = normalize(&raw_name);
    if member.size > 0 && !matches!(member.kind, b'0' | 0 | b'7') {
        // `tarfile` reads no data after a link or directory; the tar crate and GNU tar
        // skip it: the next header would differ.
        problems.push(header_problem(format!(
            "member `{shown}` is not a regular file yet carries {} bytes of data",
            member.size
        )));
        return Ok(());
    }
    let node = match member.kind {
        b'0' | 0 | b'7' => {
            let node = read_file(entry, &name, listing)?;
            listing.unpacked_size += member.size;
            node
        }
        b'5' => TreeNode::Directory,
        b'2' | b'1' => match link_node(&name, member.kind == b'2', &member.link, listing) {
            Ok(node) => node,
            Err(problem) => {
                problems.push(problem);
                return Ok(());
            }
        },
        b'3' | b'4' | b'6' => {
            problems.push(Problem::error(
                "sdist-special-file",
                format!("member `{shown}` is a device or FIFO, which has no place in an sdist"),
            ));
            return Ok(());
        }
        kind => {
            problems.push(header_problem(format!(
                "member `{shown}` has the tar type `{}`, which extractors write as a plain file or skip",
                String::from_utf8_lossy(&[kind]).escape_debug()
            )));
            return Ok(());
        }
    };
    if name.is_empty() {
        if node != TreeNode::Directory {
            problems.push(Problem::error(
                "path-unsafe",
                format!("member `{shown}` names the extraction directory itself"),
            ));
        }
        return Ok(());
    }
    listing.insert(name, node, problems);
    Ok(())
}

/// Reads a regular member whole, hashing it (and keeping it if it is a `PKG-INFO`).
fn read_file<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    name: &str,
    listing: &mut Listing,
) -> std::io::Result<TreeNode> {
    let keep = Listing::is_pkg_info(name).is_some();
    let file = match sdist::read_file(entry, keep, u64::MAX) {
        Ok(file) => file,
        Err(ReadFileError::Io(e)) => return Err(e),
        Err(ReadFileError::Overrun) => unreachable!("no member is longer than u64::MAX"),
    };
    if let Some(kept) = file.kept {
        listing.pkg_info.insert(name.to_owned(), kept);
    }
    Ok(file.node)
}

/// A symlink must point inside the member's own top directory; a hard link must name
/// a regular file that came before it (extractors link to what is already on disk).
fn link_node(
    name: &str,
    is_symlink: bool,
    target: &[u8],
    listing: &Listing,
) -> Result<TreeNode, Problem> {
    let target = String::from_utf8_lossy(target).into_owned();
    let top = name.split('/').next().unwrap_or_default();
    if is_symlink {
        if link_stays_inside(name, &target, top) {
            return Ok(TreeNode::Symlink { target });
        }
    } else if unsafe_member_path(&target).is_none()
        && normalize(&target).starts_with(&format!("{top}/"))
    {
        return match listing.tree.get(&normalize(&target)) {
            Some(file @ TreeNode::File { .. }) => Ok(file.clone()),
            _ => Err(Problem::error(
                "sdist-link-target",
                format!(
                    "member `{}` is a hard link to `{}`, which is not a regular file earlier in the archive",
                    name.escape_debug(),
                    target.escape_debug()
                ),
            )
            .hint("extractors fail on such a link or link something else; rebuild the sdist")),
        };
    }
    let what = if is_symlink { "symlink" } else { "hard link" };
    Err(Problem::error(
        "sdist-link-escape",
        format!(
            "member `{}` is a {what} to `{}`, outside the sdist",
            name.escape_debug(),
            target.escape_debug()
        ),
    )
    .hint("an extractor could be made to write or read outside its target directory; rebuild the sdist"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_records_are_read_strictly() {
        let records = pax_records(b"16 path=a/b/c.p\n10 size=5\n").unwrap();
        assert_eq!(
            records,
            vec![(&b"path"[..], &b"a/b/c.p"[..]), (&b"size"[..], &b"5"[..])]
        );
        assert!(pax_records(b"99 path=x\n").is_err());
        assert!(
            pax_records(b"10 path=xy").is_err(),
            "a record ends in a newline"
        );
        assert!(pax_records(b"x path=y\n").is_err());
        let pax = parse_pax(b"16 path=a/b/c.p\n10 size=5\n").unwrap();
        assert_eq!(pax.size, Some(5));
        assert!(parse_pax(b"22 GNU.sparse.major=1\n").is_err());
        assert!(parse_pax(b"10 size=5\n10 size=6\n").is_err());
        assert!(parse_pax(b"10 size=x\n").is_err());
    }

    #[test]
    fn paths_normalize_like_the_file_system() {
        assert_eq!(normalize("./a//b/./c/"), "a/b/c");
        assert_eq!(normalize("."), "");
    }
}

//! Reading the export: each row with its line number, as a migrate request or as the reason it
//! cannot be one. A row that does not parse is an invalid row, never a failed read.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde_json::{Map, Value};

use super::csv_columns::CsvColumns;
use super::request::{self, InvalidRow, MigrateRequest};

/// The export's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per line, the migrate request's fields.
    Jsonl,
    /// A header row naming the fields, dotted names for nested ones (`scrypt_config.salt`).
    Csv,
}

impl Format {
    /// The given format, or the one the file name's extension says.
    pub fn of(path: &Path, given: Option<Format>) -> Result<Format, String> {
        if let Some(f) = given {
            return Ok(f);
        }
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("jsonl" | "ndjson") => Ok(Format::Jsonl),
            Some("csv") => Ok(Format::Csv),
            _ => Err(format!(
                "cannot tell the format of {} from its name: use --format jsonl or --format csv",
                path.display()
            )),
        }
    }
}

/// One row of the export.
#[derive(Debug)]
pub struct SourceRow {
    /// 1-based line of the file where the row starts.
    pub line: u64,
    pub request: Result<MigrateRequest, InvalidRow>,
}

/// The rows of an export, in file order.
pub struct Rows<R: Read> {
    inner: Inner<R>,
    default_org: Option<String>,
}

enum Inner<R: Read> {
    Jsonl {
        reader: BufReader<R>,
        line: u64,
        buf: Vec<u8>,
    },
    Csv {
        reader: csv::Reader<R>,
        columns: CsvColumns,
        record: csv::ByteRecord,
    },
}

impl<R: Read> Rows<R> {
    /// Start reading. For CSV this reads the header row, whose problems are the file's, not a
    /// row's: they are returned here.
    pub fn new(input: R, format: Format, default_org: Option<String>) -> Result<Self, String> {
        let inner = match format {
            Format::Jsonl => Inner::Jsonl {
                reader: BufReader::new(input),
                line: 0,
                buf: Vec::new(),
            },
            Format::Csv => {
                let mut reader = csv::ReaderBuilder::new()
                    .has_headers(true)
                    .flexible(true)
                    .from_reader(input);
                let header = reader
                    .headers()
                    .map_err(|e| format!("reading the CSV header row: {e}"))?
                    .clone();
                let columns = CsvColumns::new(header.iter()).map_err(|e| format!("CSV header row: {e}"))?;
                Inner::Csv {
                    reader,
                    columns,
                    record: csv::ByteRecord::new(),
                }
            }
        };
        Ok(Self { inner, default_org })
    }

    /// The next row, `None` at the end; an error only when the file cannot be read.
    pub fn next_row(&mut self) -> std::io::Result<Option<SourceRow>> {
        let default_org = self.default_org.as_deref();
        match &mut self.inner {
            Inner::Jsonl { reader, line, buf } => loop {
                buf.clear();
                if reader.read_until(b'\n', buf)? == 0 {
                    return Ok(None);
                }
                *line += 1;
                let mut text: &[u8] = buf;
                if *line == 1 {
                    text = text.strip_prefix("\u{feff}".as_bytes()).unwrap_or(text);
                }
                if text.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return Ok(Some(SourceRow {
                    line: *line,
                    request: json_fields(text).and_then(|fields| request::build(fields, default_org)),
                }));
            },
            Inner::Csv {
                reader,
                columns,
                record,
            } => {
                let more = reader.read_byte_record(record).map_err(|e| match e.into_kind() {
                    csv::ErrorKind::Io(e) => e,
                    other => std::io::Error::other(format!("{other:?}")),
                })?;
                if !more {
                    return Ok(None);
                }
                let line = record.position().map_or(0, csv::Position::line);
                Ok(Some(SourceRow {
                    line,
                    request: columns
                        .fields(record)
                        .and_then(|fields| request::build(fields, default_org)),
                }))
            }
        }
    }
}

fn json_fields(text: &[u8]) -> Result<Map<String, Value>, InvalidRow> {
    let text = text.trim_ascii_end();
    match serde_json::from_slice::<Value>(text) {
        Ok(Value::Object(fields)) => Ok(fields),
        Ok(_) => Err(InvalidRow::new("not a JSON object")),
        Err(e) => {
            // serde's position is within the row: the column is what helps.
            let message = e.to_string();
            let message = message.rsplit_once(" at line ").map_or(message.as_str(), |(m, _)| m);
            Err(InvalidRow::new(format!("not JSON: {message} at column {}", e.column())))
        }
    }
}

/// Read every row of the file at `path`, to count them before sending any.
pub fn row_lines(path: &Path, format: Format) -> Result<Vec<u64>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut rows = Rows::new(file, format, None).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = Vec::new();
    while let Some(row) = rows.next_row().map_err(|e| format!("{}: {e}", path.display()))? {
        lines.push(row.line);
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::import::request::Endpoint;

    fn read_all(text: &str, format: Format, org: Option<&str>) -> Vec<SourceRow> {
        let mut rows = Rows::new(text.as_bytes(), format, org.map(str::to_owned)).unwrap();
        let mut out = Vec::new();
        while let Some(r) = rows.next_row().unwrap() {
            out.push(r);
        }
        out
    }

    #[test]
    fn the_format_comes_from_the_flag_or_the_extension() {
        assert_eq!(Format::of(Path::new("u.jsonl"), None), Ok(Format::Jsonl));
        assert_eq!(Format::of(Path::new("u.NDJSON"), None), Ok(Format::Jsonl));
        assert_eq!(Format::of(Path::new("u.csv"), None), Ok(Format::Csv));
        assert_eq!(Format::of(Path::new("u.txt"), Some(Format::Csv)), Ok(Format::Csv));
        assert!(Format::of(Path::new("export"), None).unwrap_err().contains("--format"));
        // A .json file may well be one array: not taken for JSON Lines unless told.
        assert!(Format::of(Path::new("users.json"), None).is_err());
    }

    #[test]
    fn jsonl_rows_keep_their_line_numbers_and_bad_lines_are_invalid_rows() {
        let text = "\u{feff}{\"email\":\"a@example.com\",\"hash_type\":\"md_5\",\"hash\":\"00\"}\r\n\
                    \n\
                    {not json\n\
                    [1,2]\n\
                    {\"email\":\"b@example.com\",\"hash_type\":\"md_5\",\"hash\":\"11\"}";
        let rows = read_all(text, Format::Jsonl, None);
        assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 3, 4, 5]);
        let first = rows[0].request.as_ref().unwrap();
        assert_eq!(first.email, "a@example.com");
        assert_eq!(first.endpoint, Endpoint::Consumer);
        assert_eq!(
            rows[1].request.as_ref().unwrap_err().message,
            "not JSON: key must be a string at column 2"
        );
        assert_eq!(rows[2].request.as_ref().unwrap_err().message, "not a JSON object");
        assert_eq!(rows[3].request.as_ref().unwrap().email, "b@example.com");
    }

    #[test]
    fn invalid_utf8_in_a_line_is_an_invalid_row() {
        let mut bytes = b"{\"email\":\"a@example.com\",\"hash_type\":\"md_5\",\"hash\":\"".to_vec();
        bytes.extend_from_slice(&[0xff, 0xfe]);
        bytes.extend_from_slice(b"\"}\n");
        let mut rows = Rows::new(&bytes[..], Format::Jsonl, None).unwrap();
        let row = rows.next_row().unwrap().unwrap();
        assert!(row.request.is_err());
        assert!(rows.next_row().unwrap().is_none());
    }

    #[test]
    fn csv_rows_start_after_the_header_and_multiline_cells_keep_line_numbers() {
        let text = "email,hash_type,hash,trusted_metadata\n\
                    a@example.com,md_5,00,\"{\"\"note\"\":\n\"\"two lines\"\"}\"\n\
                    b@example.com,md_5\n\
                    c@example.com,md_5,22,\n";
        let rows = read_all(text, Format::Csv, Some("org-1"));
        assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 4, 5]);
        let a = rows[0].request.as_ref().unwrap();
        assert_eq!(a.endpoint, Endpoint::B2b);
        assert_eq!(
            Value::Object(a.body.clone()),
            json!({"email_address": "a@example.com", "organization_id": "org-1", "hash_type": "md_5", "hash": "00",
                   "trusted_metadata": {"note": "two lines"}})
        );
        assert!(rows[1].request.as_ref().unwrap_err().message.contains("2 cells"));
        assert_eq!(rows[2].request.as_ref().unwrap().email, "c@example.com");
    }

    #[test]
    fn a_bad_csv_header_is_the_files_problem() {
        let e = Rows::new("email,email\n".as_bytes(), Format::Csv, None).err().unwrap();
        assert!(e.contains("twice"), "{e}");
    }
}

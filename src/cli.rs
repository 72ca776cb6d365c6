//! Shared command-line plumbing: the one `main` runner, input opening, stdout, and diagnostics.

use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::OnceLock;

use crate::error::{Error, Result, EXIT_OK};

static TOOL: OnceLock<&'static str> = OnceLock::new();

/// What every tool's `--version` says after its name: the version, the commit it was built
/// from and the target it was built for.
pub(crate) const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("SPIRA_COMMIT"),
    ", ",
    env!("SPIRA_TARGET"),
    ")"
);

/// The running tool's name, as it prefixes every message.
pub(crate) fn tool() -> &'static str {
    TOOL.get().copied().unwrap_or("spira-pipe")
}

/// Prints `TOOL: warning: MESSAGE` on stderr. Warnings never change the exit code.
pub(crate) fn warn(msg: std::fmt::Arguments<'_>) {
    say("warning: ", msg);
}

/// Prints `TOOL: MESSAGE` on stderr: an error that the tool recovers from or reports at the end.
pub(crate) fn error(msg: std::fmt::Arguments<'_>) {
    say("", msg);
}

/// Prints `TOOL: MESSAGE` on stderr: information for people.
pub(crate) fn info(msg: std::fmt::Arguments<'_>) {
    say("", msg);
}

/// One message on stderr, its control characters shown escaped: text from a server or a file
/// (a message, a name) cannot move the cursor, recolour the terminal or hide a line. Held
/// instead while this thread holds its diagnostics ([`LineOut::held`]).
fn say(kind: &str, msg: std::fmt::Arguments<'_>) {
    let text = msg.to_string();
    let line = format!("{}: {kind}{}\n", tool(), printable(&text));
    let held = HELD.with_borrow_mut(|h| match h {
        Some(h) => {
            h.extend_from_slice(line.as_bytes());
            true
        }
        None => false,
    });
    if !held {
        let _ = io::stderr().lock().write_all(line.as_bytes());
    }
}

thread_local! {
    /// This thread's diagnostics while they are held: the messages about a file that is not
    /// yet the one to write.
    static HELD: std::cell::RefCell<Option<Vec<u8>>> = const { std::cell::RefCell::new(None) };
}

/// Holds (`true`) or stops holding this thread's diagnostics; what was held, in either case.
fn hold_diagnostics(hold: bool) -> Vec<u8> {
    HELD.with_borrow_mut(|h| {
        let was = h.take().unwrap_or_default();
        if hold {
            *h = Some(Vec::new());
        }
        was
    })
}

fn held_diagnostics_len() -> usize {
    HELD.with_borrow(|h| h.as_ref().map_or(0, Vec::len))
}

/// A turn to wait for before writing: spira-parse's workers read files at once and write
/// their output in the order one thread would.
pub(crate) trait Turn: Send + Sync {
    /// Blocks until it is `index`'s turn to write, and takes the pen; false when the run has
    /// stopped (an earlier input failed for good), so nothing of `index` is to be written.
    fn wait(&self, index: usize) -> bool;
}

/// A [`LineOut`]'s output held until its turn.
struct Held {
    turn: std::sync::Arc<dyn Turn>,
    index: usize,
    /// The most held at once, output and diagnostics together: past it, the writer waits.
    cap: usize,
}

/// `s` with its control characters (but line ends and tabs) escaped: ESC as `\x1b`, C1 controls
/// as `\u{9b}`.
pub(crate) fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    let is_bad = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !s.chars().any(is_bad) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            c if !is_bad(c) => out.push(c),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Runs a tool: parses its arguments with clap, calls `run`, prints any error with the tool's
/// name, and maps it to the exit code. A closed stdout pipe is a normal end (exit 0).
pub fn main<A: clap::Parser>(name: &'static str, run: fn(A) -> Result<()>) -> ExitCode {
    main_with(name, run, std::env::args_os().collect())
}

/// [`main`] on these arguments (the first is the program's name).
pub fn main_with<A: clap::Parser>(
    name: &'static str,
    run: fn(A) -> Result<()>,
    args: Vec<std::ffi::OsString>,
) -> ExitCode {
    let _ = TOOL.set(name);
    let cmd = with_generate(A::command());
    let parsed = cmd
        .clone()
        .try_get_matches_from(args)
        .and_then(|m| Ok((A::from_arg_matches(&m)?, m)));
    let args = match parsed {
        Ok((_, m)) if m.get_one::<String>("generate").is_some() => {
            let kind = m.get_one::<String>("generate").map_or("", String::as_str);
            return match generate(cmd, name, kind, &mut io::stdout().lock()) {
                Ok(()) => ExitCode::from(EXIT_OK),
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(EXIT_OK),
                Err(e) => {
                    error(format_args!("cannot write: {}", io_reason(&e)));
                    ExitCode::from(crate::error::EXIT_USAGE)
                }
            };
        }
        Ok((a, _)) => a,
        Err(e) => {
            // clap prints help and version on stdout (exit 0), usage errors on stderr (exit 2).
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { EXIT_OK });
        }
    };
    match run(args) {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(e) if e.is_broken_pipe() => ExitCode::from(EXIT_OK),
        Err(Error::Exit(code)) => ExitCode::from(code),
        Err(e) => {
            error(format_args!("{e}"));
            ExitCode::from(e.exit_code())
        }
    }
}

/// A tool of the `spira-pipe` command: its short name, what it does, and how it runs on its
/// arguments.
pub type Tool = (
    &'static str,
    &'static str,
    fn(Vec<std::ffi::OsString>) -> ExitCode,
);

/// The `spira-pipe` command: `spira-pipe TOOL ARGS…` runs the tool (`parse` or `spira-parse`),
/// `--help` lists them, `--version` says the version; called by a tool's own name (a link or
/// a copy named `spira-parse`), it is that tool.
pub fn multi(tools: &[Tool]) -> ExitCode {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let find = |name: &str| {
        let short = name.strip_prefix("spira-").unwrap_or(name);
        tools.iter().find(|t| t.0 == short)
    };
    let called = args
        .first()
        .and_then(|a| Path::new(a).file_stem()?.to_str().map(str::to_string));
    if let Some(t) = called
        .as_deref()
        .filter(|c| *c != "spira-pipe")
        .and_then(find)
    {
        return (t.2)(args);
    }
    let first = args.get(1).and_then(|a| a.to_str()).map(str::to_string);
    match first.as_deref() {
        None => {
            let _ = write!(io::stderr(), "{}", multi_help(tools));
            ExitCode::from(crate::error::EXIT_USAGE)
        }
        Some("-h" | "--help" | "help") if args.len() == 2 => {
            let _ = write!(io::stdout(), "{}", multi_help(tools));
            ExitCode::from(EXIT_OK)
        }
        Some("-V" | "--version") => {
            let _ = writeln!(io::stdout(), "spira-pipe {VERSION}");
            ExitCode::from(EXIT_OK)
        }
        Some("help") => match args.get(2).and_then(|a| a.to_str()).and_then(find) {
            Some(t) => (t.2)(vec![format!("spira-{}", t.0).into(), "--help".into()]),
            None => unknown(args.get(2), tools),
        },
        Some(name) => match find(name) {
            Some(t) => {
                args.remove(0);
                args[0] = format!("spira-{}", t.0).into();
                (t.2)(args)
            }
            None => unknown(args.get(1), tools),
        },
    }
}

fn unknown(name: Option<&std::ffi::OsString>, tools: &[Tool]) -> ExitCode {
    let _ = TOOL.set("spira-pipe");
    let names: Vec<&str> = tools.iter().map(|t| t.0).collect();
    error(format_args!(
        "unknown tool '{}'; the tools: {} (spira-pipe --help)",
        name.map(|n| n.to_string_lossy()).unwrap_or_default(),
        names.join(", ")
    ));
    ExitCode::from(crate::error::EXIT_USAGE)
}

fn multi_help(tools: &[Tool]) -> String {
    let mut s = format!(
        "spira-pipe {VERSION}\nRecord CI test reports as test runs in Inflectra Spira: small Unix filters joined by pipes.\n\n\
         Usage: spira-pipe TOOL [ARGS]...   (the same as spira-TOOL [ARGS]...)\n\nTools:\n"
    );
    for (name, what, _) in tools {
        s.push_str(&format!("  {name:<10}{what}\n"));
    }
    s.push_str(
        "\nspira-pipe help TOOL (or spira-pipe TOOL --help) for a tool's options.\n\
         Example: spira-pipe parse reports/ | spira-pipe map --map ids.csv | spira-pipe batch | spira-pipe post\n",
    );
    s
}

/// Adds `--generate man|bash|zsh|fish` to a tool's command line.
fn with_generate(cmd: clap::Command) -> clap::Command {
    cmd.arg(
        clap::Arg::new("generate")
            .long("generate")
            .value_name("KIND")
            .value_parser(["man", "bash", "zsh", "fish"])
            .help("Print the man page (man) or shell completions (bash, zsh, fish) and exit"),
    )
}

/// Writes the man page or the completions of `cmd`, generated from its clap definition.
pub(crate) fn generate(
    cmd: clap::Command,
    name: &str,
    kind: &str,
    out: &mut dyn Write,
) -> io::Result<()> {
    use clap_complete::Shell;
    let mut cmd = cmd.bin_name(name.to_string());
    let shell = match kind {
        "man" => return clap_mangen::Man::new(cmd).render(out),
        "bash" => Shell::Bash,
        "zsh" => Shell::Zsh,
        _ => Shell::Fish,
    };
    clap_complete::generate(shell, &mut cmd, name.to_string(), out);
    Ok(())
}

/// Standard output, locked once and buffered: by line on a terminal, in blocks otherwise.
pub(crate) fn stdout() -> Box<dyn Write> {
    let out = io::stdout();
    if out.is_terminal() {
        Box::new(io::LineWriter::new(out.lock()))
    } else {
        Box::new(io::BufWriter::with_capacity(128 * 1024, out.lock()))
    }
}

/// One named input: a file, or standard input when the name is `-`.
pub(crate) struct Input {
    /// The name used in messages: the path as given, or `<stdin>`.
    pub(crate) name: String,
    /// The path, or `None` for standard input.
    pub(crate) path: Option<PathBuf>,
    /// A copy of standard input in an unlinked temporary file, read instead of it (for a tool
    /// that reads its input twice).
    pub(crate) spooled: Option<File>,
}

impl Input {
    /// The input named `arg`; `-` means standard input.
    pub(crate) fn new(arg: &Path) -> Input {
        if arg == Path::new("-") {
            Input::stdin()
        } else {
            Input {
                name: arg.display().to_string(),
                path: Some(arg.to_path_buf()),
                spooled: None,
            }
        }
    }

    /// Standard input.
    pub(crate) fn stdin() -> Input {
        Input {
            name: "<stdin>".to_string(),
            path: None,
            spooled: None,
        }
    }

    /// Opens the input for raw reading. A file that cannot be opened is a usage error (exit 2).
    pub(crate) fn open_raw(&self) -> Result<Box<dyn Read + Send>> {
        if let Some(f) = &self.spooled {
            use std::io::Seek;
            let f = f
                .try_clone()
                .and_then(|mut f| f.rewind().map(|()| f))
                .map_err(|e| {
                    Error::Usage(format!(
                        "cannot read the copy of {}: {}",
                        self.name,
                        io_reason(&e)
                    ))
                })?;
            return Ok(Box::new(f));
        }
        match &self.path {
            None => Ok(Box::new(io::stdin())),
            Some(p) => match File::open(p) {
                Ok(f) => Ok(Box::new(f)),
                Err(e) => Err(Error::Usage(format!(
                    "cannot open '{}' for reading: {}",
                    self.name,
                    io_reason(&e)
                ))),
            },
        }
    }

    /// Whether a read of this input may wait for its writer: standard input, a pipe, a
    /// terminal, anything but a regular file (or the spooled copy of standard input).
    pub(crate) fn may_wait(&self) -> bool {
        if self.spooled.is_some() {
            return false;
        }
        match &self.path {
            None => true,
            Some(p) => !std::fs::metadata(p).is_ok_and(|m| m.is_file()),
        }
    }

    /// Opens the input buffered, for line-oriented tools.
    pub(crate) fn open(&self) -> Result<Box<dyn BufRead>> {
        Ok(Box::new(BufReader::with_capacity(
            32 * 1024,
            self.open_raw()?,
        )))
    }
}

/// Opens `path` for appending, creating it if needed (a reject, dead-letter or record file).
pub(crate) fn open_append(path: &Path) -> Result<io::BufWriter<File>> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map(io::BufWriter::new)
        .map_err(|e| {
            Error::Usage(format!(
                "cannot open '{}' for appending: {}",
                path.display(),
                io_reason(&e)
            ))
        })
}

/// The inputs named on the command line; none means standard input.
pub(crate) fn inputs(args: &[PathBuf]) -> Vec<Input> {
    if args.is_empty() {
        vec![Input::stdin()]
    } else {
        args.iter().map(|a| Input::new(a)).collect()
    }
}

/// A byte count with an optional K, M or G suffix (powers of 1024).
pub(crate) fn parse_size(s: &str) -> std::result::Result<usize, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, 'K' | 'k')) => (&t[..i], 1usize << 10),
        Some((i, 'M' | 'm')) => (&t[..i], 1 << 20),
        Some((i, 'G' | 'g')) => (&t[..i], 1 << 30),
        _ => (t, 1),
    };
    let n: usize = num
        .parse()
        .map_err(|_| format!("'{s}' is not a size (write 1048576, 512K or 1M)"))?;
    if n == 0 {
        return Err("the size must be at least 1".into());
    }
    n.checked_mul(mult)
        .ok_or_else(|| format!("'{s}' is too large"))
}

/// `s` without surrounding white space; `None` when nothing is left.
pub(crate) fn trim_owned(s: String) -> Option<String> {
    let t = s.trim();
    if t.is_empty() {
        None
    } else if t.len() == s.len() {
        Some(s)
    } else {
        Some(t.to_string())
    }
}

/// One read of `r` into `buf` (again when a signal interrupts it); how much it brought, 0 at
/// the end. An error names the input: `cannot read 'NAME': REASON`.
pub(crate) fn read_some(r: &mut (impl Read + ?Sized), buf: &mut [u8], name: &str) -> Result<usize> {
    loop {
        match r.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(read_error(name, &e)),
        }
    }
}

/// Appends at most `max` bytes of `r` to `buf`, reading until they came or the input ended
/// (as [`read_some`], again and again); how many came. The bytes are read into `buf`'s spare room, which is
/// never zeroed first (a megabyte block per small file was zeroed for nothing).
pub(crate) fn read_append(
    r: &mut (impl Read + ?Sized),
    buf: &mut Vec<u8>,
    max: usize,
    name: &str,
) -> Result<usize> {
    let before = buf.len();
    buf.reserve(max);
    match (&mut *r).take(max as u64).read_to_end(buf) {
        Ok(n) => Ok(n),
        Err(e) => {
            buf.truncate(before);
            Err(read_error(name, &e))
        }
    }
}

/// A read that failed: a usage error naming the input.
fn read_error(name: &str, e: &io::Error) -> Error {
    Error::Usage(format!("cannot read '{name}': {}", io_reason(e)))
}

/// An I/O error's reason without Rust's "(os error N)" suffix, as coreutils prints it.
pub(crate) fn io_reason(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Standard output for JSON lines: records are serialized into one buffer, written out in
/// large blocks (at once on a terminal), so the hot path makes no small writes.
pub(crate) struct LineOut {
    out: Box<dyn Write>,
    buf: Vec<u8>,
    eager: bool,
    /// Output and diagnostics held until their turn.
    held: Option<Held>,
    /// Its turn will never come (the run stopped): nothing is written.
    closed: bool,
}

/// The size of the blocks written out.
const OUT_BLOCK: usize = 64 * 1024;

impl LineOut {
    /// Any writer, written in blocks.
    pub(crate) fn new(out: Box<dyn Write>) -> LineOut {
        LineOut {
            out,
            buf: Vec::with_capacity(128 * 1024),
            eager: false,
            held: None,
            closed: false,
        }
    }

    /// Standard output. The blocks go to it unbuffered: they end with a line end, so its own
    /// line buffering passes them straight through, where a `BufWriter` would copy them again.
    pub(crate) fn stdout() -> LineOut {
        LineOut {
            out: Box::new(io::stdout().lock()),
            buf: Vec::with_capacity(128 * 1024),
            eager: io::stdout().is_terminal(),
            held: None,
            closed: false,
        }
    }

    /// `out` (standard output, unlocked: several threads take turns) for input number
    /// `index`, held (with this thread's diagnostics) until `turn` says it is its turn, or
    /// until `cap` bytes are held, when it waits for its turn.
    pub(crate) fn held(
        out: Box<dyn Write>,
        eager: bool,
        turn: std::sync::Arc<dyn Turn>,
        index: usize,
        cap: usize,
    ) -> LineOut {
        hold_diagnostics(true);
        LineOut {
            out,
            buf: Vec::with_capacity(16 * 1024),
            eager,
            held: Some(Held { turn, index, cap }),
            closed: false,
        }
    }

    /// Waits for this output's turn, if it was held, and writes what was held: from now on it
    /// writes as [`LineOut::stdout`] does. An error when the run has stopped.
    pub(crate) fn open(&mut self) -> Result<()> {
        let Some(h) = self.held.take() else {
            return Ok(());
        };
        let said = hold_diagnostics(false);
        if !h.turn.wait(h.index) {
            self.closed = true;
            self.buf.clear();
            return Err(Error::Exit(crate::error::EXIT_OK));
        }
        io::stderr().lock().write_all(&said)?;
        Ok(())
    }

    /// What is still held, output and diagnostics, when its turn never came (`None` once
    /// opened: then everything is written out). Diagnostics are no longer held.
    pub(crate) fn finish(mut self) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        if self.held.take().is_some() {
            return Ok(Some((
                std::mem::take(&mut self.buf),
                hold_diagnostics(false),
            )));
        }
        self.flush()?;
        Ok(None)
    }

    /// Whether the lines gathered are to be written now.
    fn due(&mut self) -> Result<bool> {
        if !self.eager && self.buf.len() < OUT_BLOCK {
            return Ok(false);
        }
        match &self.held {
            None => Ok(true),
            Some(h) if self.buf.len() + held_diagnostics_len() < h.cap => Ok(false),
            Some(_) => self.open().map(|()| true),
        }
    }

    /// Appends one line: `write` serializes the record, the newline is added here.
    pub(crate) fn line(&mut self, write: impl FnOnce(&mut Vec<u8>)) -> Result<()> {
        if self.closed {
            return Err(Error::Exit(crate::error::EXIT_OK));
        }
        write(&mut self.buf);
        self.buf.push(b'\n');
        if self.due()? {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Appends one line that is already whole (its newline included), writing it straight out
    /// when nothing is pending.
    pub(crate) fn raw_line(&mut self, line: &[u8]) -> Result<()> {
        if self.buf.is_empty() && line.len() >= OUT_BLOCK && self.held.is_none() {
            self.out.write_all(line)?;
            if self.eager {
                self.out.flush()?;
            }
            return Ok(());
        }
        self.line(|buf| buf.extend_from_slice(line.strip_suffix(b"\n").unwrap_or(line)))
    }

    /// Writes out the lines gathered, if any: before a read that may wait, so that no finished
    /// line is held back while the input is idle.
    pub(crate) fn hand_on(&mut self) -> Result<()> {
        if self.buf.is_empty() || self.closed {
            return Ok(());
        }
        self.flush()
    }

    /// Writes everything out (after waiting for its turn, if held).
    pub(crate) fn flush(&mut self) -> Result<()> {
        self.open()?;
        if self.closed {
            return Ok(());
        }
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        self.out.flush()?;
        Ok(())
    }
}

/// Calls `f` with each line of each input: the input's name, the 1-based line number, and the
/// line's bytes without its line end (LF or CR LF) or a leading BOM. Blank lines are passed
/// over. A final line without a newline is a line. Lines are handed out from the read buffer
/// itself; only a line cut by the buffer's end is copied.
pub(crate) fn each_line(
    inputs: &[Input],
    mut f: impl FnMut(&str, u64, &[u8]) -> Result<()>,
) -> Result<()> {
    each_line_or_idle(inputs, |line| match line {
        Some((name, n, text)) => f(name, n, text),
        None => Ok(()),
    })
}

/// As [`each_line`], with `None` before each read of an input that may wait (standard input,
/// a pipe, a terminal): a filter writes out what it holds then, so that a finished line never
/// waits in its buffer while its input is idle (`go test -json | … | spira-post` records runs
/// while the tests run).
pub(crate) fn each_line_or_idle(
    inputs: &[Input],
    mut f: impl FnMut(Option<(&str, u64, &[u8])>) -> Result<()>,
) -> Result<()> {
    let mut carry: Vec<u8> = Vec::new();
    for input in inputs {
        let mut rd = input.open()?;
        let waits = input.may_wait();
        let mut n = 0u64;
        let mut first = true;
        loop {
            if waits && !first {
                f(None)?;
            }
            first = false;
            let buf = rd.fill_buf().map_err(|e| {
                Error::Usage(format!("cannot read '{}': {}", input.name, io_reason(&e)))
            })?;
            if buf.is_empty() {
                if !carry.is_empty() {
                    one(&input.name, &mut n, &carry, &mut f)?;
                    carry.clear();
                }
                break;
            }
            let mut start = 0;
            for nl in memchr::memchr_iter(b'\n', buf) {
                if carry.is_empty() {
                    one(&input.name, &mut n, &buf[start..nl], &mut f)?;
                } else {
                    carry.extend_from_slice(&buf[start..nl]);
                    one(&input.name, &mut n, &carry, &mut f)?;
                    carry.clear();
                }
                start = nl + 1;
            }
            carry.extend_from_slice(&buf[start..]);
            let len = buf.len();
            rd.consume(len);
        }
    }
    Ok(())
}

/// One line of [`each_line_or_idle`], numbered, its line end and BOM taken off; a blank one
/// passed over.
fn one<F>(name: &str, n: &mut u64, line: &[u8], f: &mut F) -> Result<()>
where
    F: FnMut(Option<(&str, u64, &[u8])>) -> Result<()>,
{
    *n += 1;
    let mut text = line;
    while let [rest @ .., b'\n' | b'\r'] = text {
        text = rest;
    }
    let text = text.strip_prefix("\u{feff}".as_bytes()).unwrap_or(text);
    if text.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    f(Some((name, *n, text)))
}

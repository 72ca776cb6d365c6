//! The house rules, checked on the source (ARCHITECTURE.md states them): no tool module imports
//! another, shared modules import no tool, no import circle anywhere in `src/`, the library's
//! face is what the binaries and fuzz targets need, and a function over 80 lines says why.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::harness::root;

/// The tools: one module each.
const TOOLS: &[&str] = &[
    "parse", "map", "validate", "batch", "post", "inspect", "ids", "mock", "cases",
];

/// Every `.rs` file under `src/` but the binaries, with its module path (`parse::input::cap`).
fn modules() -> Vec<(String, PathBuf)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                if p.file_name().unwrap() != "bin" {
                    walk(&p, out);
                }
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let src = root().join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(&src).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
                parts.pop();
            }
            (parts.join("::"), p)
        })
        .collect()
}

/// The source without comments and without its test module (`#[cfg(test)] mod ...` to the end).
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(l) = lines.next() {
        if l.starts_with("#[cfg(test)]") && lines.peek().is_some_and(|n| n.starts_with("mod ")) {
            break;
        }
        let t = l.trim_start();
        if t.starts_with("//") {
            continue;
        }
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// The modules that `module`'s code refers to: `crate::a::b` paths, `super::x` and, for a
/// parent, the children it uses by name; each resolved to the longest module that exists.
fn imports(module: &str, code: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let resolve = |path: Vec<&str>| -> Option<String> {
        (1..=path.len())
            .rev()
            .map(|n| path[..n].join("::"))
            .find(|m| known.contains(m))
    };
    let mut out = BTreeSet::new();
    let parent: Vec<&str> = module.split("::").filter(|s| !s.is_empty()).collect();
    let ident = |c: char| c.is_alphanumeric() || c == '_' || c == ':';
    for (i, _) in code.match_indices("crate::") {
        let rest: String = code[i + 7..].chars().take_while(|&c| ident(c)).collect();
        out.extend(resolve(
            rest.split("::").filter(|s| !s.is_empty()).collect(),
        ));
    }
    for (i, _) in code.match_indices("super::") {
        // `super::super::` is not used here; `super::` is the parent module.
        if code[..i].ends_with("super::") {
            continue;
        }
        let rest: String = code[i + 7..].chars().take_while(|&c| ident(c)).collect();
        let mut path: Vec<&str> = parent[..parent.len().saturating_sub(1)].to_vec();
        path.extend(rest.split("::").filter(|s| !s.is_empty()));
        out.extend(resolve(path).or(Some(parent[..parent.len().saturating_sub(1)].join("::"))));
    }
    // A parent using its child: `child::item` or `use child::{...}` at the start of a path.
    for child in known.iter().filter(|m| {
        m.strip_prefix(&format!("{module}::"))
            .is_some_and(|rest| !rest.contains("::"))
            || (module.is_empty() && !m.contains("::"))
    }) {
        let name = child.rsplit("::").next().unwrap();
        let used = code.match_indices(&format!("{name}::")).any(|(i, _)| {
            !code[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':')
        });
        if used {
            out.insert(child.clone());
        }
    }
    out.remove(module);
    out.remove("");
    out
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mods = modules();
    let known: BTreeSet<String> = mods.iter().map(|(m, _)| m.clone()).collect();
    mods.iter()
        .map(|(m, p)| (m.clone(), imports(m, &code(p), &known)))
        .collect()
}

fn tool_of(module: &str) -> Option<&'static str> {
    let first = module.split("::").next()?;
    TOOLS.iter().copied().find(|t| *t == first)
}

#[test]
fn no_tool_module_imports_another_and_shared_modules_import_none() {
    let g = graph();
    let mut wrong = Vec::new();
    for (m, deps) in &g {
        for d in deps {
            match (tool_of(m), tool_of(d)) {
                (Some(a), Some(b)) if a != b => wrong.push(format!("{m} -> {d}")),
                (None, Some(_)) if !m.is_empty() => wrong.push(format!("{m} (shared) -> {d}")),
                _ => {}
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports across the house's walls:\n{}",
        wrong.join("\n")
    );
    // The check sees the imports: the parse tool's modules use shared ones.
    assert!(g["parse::csv"].contains("record"), "{:?}", g["parse::csv"]);
    assert!(g.len() > 40, "only {} modules found", g.len());
}

#[test]
fn no_import_circle_anywhere_in_src() {
    let g = graph();
    // Tarjan's strongly connected components: any with more than one module is a circle.
    struct T<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        circles: Vec<Vec<&'a str>>,
    }
    impl<'a> T<'a> {
        fn visit(&mut self, v: &'a str) {
            let i = self.index.len();
            self.index.insert(v, i);
            self.low.insert(v, i);
            self.stack.push(v);
            self.on.insert(v);
            for w in self.g.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !self.g.contains_key(w) {
                    continue;
                }
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let l = self.low[v].min(self.low[w]);
                    self.low.insert(v, l);
                } else if self.on.contains(w) {
                    let l = self.low[v].min(self.index[w]);
                    self.low.insert(v, l);
                }
            }
            if self.low[v] == self.index[v] {
                let mut scc = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on.remove(w);
                    scc.push(w);
                    if w == v {
                        break;
                    }
                }
                if scc.len() > 1 {
                    self.circles.push(scc);
                }
            }
        }
    }
    let mut t = T {
        g: &g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        circles: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            t.visit(v);
        }
    }
    assert!(t.circles.is_empty(), "import circles: {:?}", t.circles);
    // The check finds a circle when there is one.
    let mut with_circle = g.clone();
    with_circle.get_mut("date").unwrap().insert("json".into());
    with_circle.get_mut("json").unwrap().insert("date".into());
    let mut t2 = T {
        g: &with_circle,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        circles: Vec::new(),
    };
    for v in with_circle.keys() {
        if !t2.index.contains_key(v.as_str()) {
            t2.visit(v);
        }
    }
    assert_eq!(t2.circles.len(), 1, "{:?}", t2.circles);
}

#[test]
fn the_library_face_is_what_binaries_and_fuzz_targets_need() {
    // (module, item): each tool's Args and run; cli::main; the error; the readers the fuzz
    // targets call.
    let mut allowed: BTreeSet<(String, String)> = BTreeSet::new();
    for t in [
        "parse", "map", "validate", "batch", "post", "inspect", "ids", "mock", "cases",
    ] {
        allowed.insert((t.into(), "run".into()));
        allowed.insert((t.into(), "Args".into()));
    }
    for (m, i) in [
        ("cli", "main"),
        ("cli", "main_with"),
        ("cli", "multi"),
        ("cli", "Tool"),
        ("parse", "parse_bytes"),
        ("parse", "parse_many"),
        ("error", "Error"),
        ("error", "Result"),
        ("error", "EXIT_OK"),
        ("error", "EXIT_DATA"),
        ("error", "EXIT_USAGE"),
        ("error", "EXIT_SERVER"),
        ("json", "string"),
        ("json", "trim_end_escaped"),
        ("json", "trim_start_escaped"),
        ("date", "Millis"),
        ("date", "NotIso"),
        ("date", "normalize"),
        ("date", "parse_iso"),
        ("date", "parse_any"),
        ("date", "parse_offset"),
        ("date", "format_iso"),
        ("date", "format_wcf"),
    ] {
        allowed.insert((m.into(), i.into()));
    }
    let item = regex::Regex::new(
        r"(?m)^\s*pub (?:(?:fn|struct|enum|type|const|static|trait) |use (?:\w+::)*)([A-Za-z_]\w*)",
    )
    .unwrap();
    let mut found = BTreeSet::new();
    for (m, p) in modules() {
        if m.is_empty() {
            continue; // lib.rs: the module list
        }
        for c in item.captures_iter(&code(&p)) {
            let top = m.split("::").next().unwrap().to_string();
            found.insert((top, c[1].to_string()));
        }
    }
    let extra: Vec<_> = found.difference(&allowed).collect();
    assert!(
        extra.is_empty(),
        "pub items beyond the library's face (make them pub(crate)): {extra:?}"
    );
    assert!(found.len() >= 20, "only {} pub items found", found.len());
}

#[test]
fn a_function_over_80_lines_says_why() {
    let sig = regex::Regex::new(r"^(\s*)(?:pub(?:\([a-z]+\))? )?(?:const )?fn (\w+)").unwrap();
    let mut long = Vec::new();
    let mut seen = 0;
    for (_, p) in modules() {
        if p.file_name()
            .is_some_and(|n| n == "tests.rs" || n == "oracle.rs")
        {
            continue;
        }
        let text = code(&p);
        let full = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            let Some(c) = sig.captures(l) else { continue };
            if l.trim_end().ends_with(';') {
                continue;
            }
            seen += 1;
            let close = format!("{}}}", &c[1]);
            let end = lines[i..].iter().position(|x| *x == close).unwrap_or(0);
            if end < 80 {
                continue;
            }
            // The reason stands in the doc comment above the signature, as `Long: ...`.
            let at = full.find(l).unwrap_or(0);
            let above: Vec<&str> = full[..at]
                .lines()
                .rev()
                .take_while(|x| {
                    let t = x.trim_start();
                    t.starts_with("///") || t.starts_with("#[") || t.starts_with("//")
                })
                .collect();
            if !above.iter().any(|x| x.contains("Long:")) {
                long.push(format!("{}: fn {} ({} lines)", p.display(), &c[2], end + 1));
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over 80 lines without a `Long:` reason:\n{}",
        long.join("\n")
    );
    assert!(seen > 300, "only {seen} functions seen");
}

/// The docs by audience: the README is the front door (at most about 200 lines) and links every
/// other page; every relative link of every page points to a file that is there.
#[test]
fn the_readme_is_a_front_door_and_every_page_is_linked() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines <= 200,
        "README.md has {lines} lines: the reference belongs in docs/"
    );
    let mut pages = vec![
        "ARCHITECTURE.md".to_string(),
        "BENCHMARKS.md".into(),
        "fuzz/README.md".into(),
    ];
    for e in std::fs::read_dir(root().join("docs")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".md") {
            pages.push(format!("docs/{name}"));
        }
    }
    assert!(pages.len() >= 8, "{pages:?}");
    for p in &pages {
        assert!(
            readme.contains(&format!("]({p})")),
            "README.md does not link {p}"
        );
    }
    let link = regex::Regex::new(r"\]\(([^)#\s]+)(#[^)]*)?\)").unwrap();
    let mut checked = 0;
    for page in pages.iter().chain([&"README.md".to_string()]) {
        let text = std::fs::read_to_string(root().join(page)).unwrap();
        let dir = root().join(page);
        let dir = dir.parent().unwrap();
        for c in link.captures_iter(&text) {
            let target = &c[1];
            if target.contains("://") {
                continue;
            }
            assert!(
                dir.join(target).exists(),
                "{page}: link to {target}, which is not there"
            );
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} links checked");
}

#[test]
fn architecture_md_names_every_submodule_of_every_tool() {
    let arch = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let mut missing = Vec::new();
    for (m, _) in modules() {
        let parts: Vec<&str> = m.split("::").collect();
        let Some(tool) = tool_of(&m) else { continue };
        if parts.len() < 2 || parts.last() == Some(&"tests") {
            continue;
        }
        let row = arch
            .lines()
            .find(|l| l.starts_with(&format!("| `{tool}/`")))
            .unwrap_or_else(|| panic!("ARCHITECTURE.md has no row for `{tool}/`"));
        if !row.contains(&format!("`{}`", parts.last().unwrap()))
            && !row.contains(&format!("`{}/`", parts.last().unwrap()))
        {
            missing.push(m);
        }
    }
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md's table does not name: {missing:?}"
    );
}

//! A model's program as a script for the sandbox: Markdown fences dropped, TypeScript
//! types removed (oxc), the body wrapped in an async function, with every
//! position kept so errors point at the program's own lines.
//!
//! Accepted shapes:
//!
//! - the body of an async function: statements with top-level `await` and `return`;
//! - one async function expression, `async () => { ... }` or `async function main() {...}`
//!   (with or without `export default`), which is called;
//!
//! either optionally inside a Markdown code fence (```` ```ts ````) with prose around it.
//!
//! TypeScript goes through oxc (parse, semantic check, the TypeScript transform, print
//! with a source map): enums and namespaces work too, and a line and column in the printed
//! script are mapped back to the text the model wrote (only the wrapper's opening on the
//! first line is subtracted).

use std::path::Path;

use oxc::allocator::Allocator;
use oxc::ast::ast::{Expression, Statement};
use oxc::codegen::{Codegen, CodegenOptions};
use oxc::diagnostics::OxcDiagnostic;
use oxc::parser::{ParseOptions, Parser};
use oxc::semantic::SemanticBuilder;
use oxc::span::SourceType;
use oxc::transformer::{TransformOptions, Transformer};

/// Longest program accepted, in bytes.
pub const MAX_PROGRAM_BYTES: usize = 256 << 10;

/// Opening of the body wrapper; the program follows on the same line.
const BODY_OPEN: &str = "(async () => {";
const BODY_CLOSE: &str = "\n})()";

/// A program ready to evaluate.
#[derive(Debug, Clone)]
pub struct Program {
    /// The script: one expression whose value is the run's promise.
    pub script: String,
    /// The text as submitted.
    submitted: String,
    /// Lines of the submitted text before the code (a fence and prose before it).
    lines_before: u32,
    /// Columns the wrapper adds to the source's first line.
    first_line_shift: u32,
    /// Source-map tokens, sorted: (script line, script column) -> (source line, source
    /// column), all 0-based; the source is the wrapped program.
    map: Vec<((u32, u32), (u32, u32))>,
}

/// Why a program cannot run: a syntax error (with its position) or a size limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramError {
    /// `SyntaxError`, or `Limit` for a program over [`MAX_PROGRAM_BYTES`].
    pub name: &'static str,
    pub message: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
    /// The text of that line.
    pub source: Option<String>,
    pub too_long: bool,
}

impl Program {
    /// A position in the script (1-based line and column) as a position in the submitted
    /// text.
    pub fn original_position(&self, line: u32, column: u32) -> (Option<u32>, Option<u32>) {
        let Some((l, c)) = line.checked_sub(1).zip(column.checked_sub(1)) else {
            return (None, None);
        };
        let i = self.map.partition_point(|(dst, _)| *dst <= (l, c));
        let Some((_, (src_line, src_col))) = i.checked_sub(1).map(|i| self.map[i]) else {
            return (None, None);
        };
        let column = if src_line == 0 {
            (src_col + 1).saturating_sub(self.first_line_shift).max(1)
        } else {
            src_col + 1
        };
        let line = src_line + 1 + self.lines_before;
        // Past the submitted text: the wrapper's closing line.
        if line as usize > self.submitted.lines().count() {
            return (None, None);
        }
        (Some(line), Some(column))
    }

    /// The submitted text's line `line` (1-based), trimmed, at most 200 characters.
    pub fn source_line(&self, line: u32) -> Option<String> {
        let text = self.submitted.lines().nth(line.checked_sub(1)? as usize)?;
        let text = text.trim();
        (!text.is_empty()).then(|| text.chars().take(200).collect())
    }
}

/// Prepares a submitted program. See the [module docs](self).
pub fn prepare(submitted: &str) -> Result<Program, ProgramError> {
    if submitted.len() > MAX_PROGRAM_BYTES {
        return Err(ProgramError {
            name: "Limit",
            message: format!(
                "the program is {} bytes; at most {MAX_PROGRAM_BYTES} are accepted",
                submitted.len()
            ),
            line: None,
            column: None,
            source: None,
            too_long: true,
        });
    }
    let (code, lines_before) = unfence(submitted);
    let code = blank_export_default(code);
    let error_at = |e: Located, shift: u32| {
        let (line, column) = match e.line {
            Some(1) => (
                Some(1 + lines_before),
                e.column.map(|c| c.saturating_sub(shift).max(1)),
            ),
            Some(l) => (Some(l + lines_before), e.column),
            None => (None, None),
        };
        let source = line.and_then(|l| {
            let t = submitted.lines().nth(l.checked_sub(1)? as usize)?.trim();
            (!t.is_empty()).then(|| t.chars().take(200).collect())
        });
        ProgramError {
            name: "SyntaxError",
            message: e.message,
            line,
            column,
            source,
            too_long: false,
        }
    };
    let (source, shift) = if is_one_function(&code) {
        // One function expression or declaration: called.
        (format!("({code}\n)()"), 1)
    } else {
        (
            format!("{BODY_OPEN}{code}{BODY_CLOSE}"),
            BODY_OPEN.len() as u32,
        )
    };
    // The compiler is a library over untrusted text: a panic in it is an error of this
    // program, not of the process.
    let compiled = std::panic::catch_unwind(|| compile(&source)).unwrap_or_else(|_| {
        Err(Located {
            message: "the program cannot be compiled (the TypeScript compiler failed on it)".into(),
            line: None,
            column: None,
        })
    });
    match compiled {
        Ok((script, map)) => Ok(Program {
            script,
            submitted: submitted.to_string(),
            lines_before,
            first_line_shift: shift,
            map,
        }),
        Err(e) => Err(error_at(e, shift)),
    }
}

/// Whether the code is one function (`async () => {...}`, `async function main() {...}`),
/// to be called rather than wrapped.
fn is_one_function(code: &str) -> bool {
    let allocator = Allocator::default();
    let options = ParseOptions {
        allow_return_outside_function: true,
        ..ParseOptions::default()
    };
    let parsed = Parser::new(&allocator, code, SourceType::ts())
        .with_options(options)
        .parse();
    if !parsed.diagnostics.is_empty() || parsed.program.body.len() != 1 {
        return false;
    }
    match &parsed.program.body[0] {
        Statement::FunctionDeclaration(_) => true,
        Statement::ExpressionStatement(e) => matches!(
            e.expression.get_inner_expression(),
            Expression::ArrowFunctionExpression(_) | Expression::FunctionExpression(_)
        ),
        _ => false,
    }
}

/// The code inside the first Markdown fence, and how many lines come before it; the
/// whole text when there is no fence.
fn unfence(text: &str) -> (&str, u32) {
    let mut offset = 0;
    let mut open = None;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let t = line.trim_start();
        if t.starts_with("```") || t.starts_with("~~~") {
            match open {
                None => open = Some((i as u32 + 1, offset + line.len())),
                Some((skip, start)) => return (&text[start..offset], skip),
            }
        }
        offset += line.len();
    }
    match open {
        // An unclosed fence: everything after it.
        Some((skip, start)) => (&text[start..], skip),
        None => (text, 0),
    }
}

/// `export default async () => ...` as `async () => ...`, positions kept.
fn blank_export_default(code: &str) -> String {
    let lead = code.len() - code.trim_start().len();
    let rest = &code[lead..];
    for prefix in ["export default "] {
        if let Some(after) = rest.strip_prefix(prefix) {
            return format!("{}{}{after}", &code[..lead], " ".repeat(prefix.len()));
        }
    }
    code.to_string()
}

/// An error with its position (1-based) in the source given to [`compile`].
#[derive(Debug)]
struct Located {
    message: String,
    line: Option<u32>,
    column: Option<u32>,
}

/// The source's first error, with its position.
fn located(source: &str, d: &OxcDiagnostic) -> Located {
    // The primary label, else the last: a redeclaration labels the first declaration, then
    // the one in error.
    let label = d.labels.iter().find(|l| l.primary()).or(d.labels.last());
    let offset = label.map(|l| l.offset() as usize);
    let position = offset.map(|o| {
        let end = o.min(source.len());
        let end = (0..=end)
            .rev()
            .find(|&i| source.is_char_boundary(i))
            .unwrap_or(0);
        let before = &source[..end];
        let line = before.matches('\n').count() as u32 + 1;
        let column = before
            .rsplit_once('\n')
            .map_or(before, |(_, l)| l)
            .chars()
            .count() as u32
            + 1;
        (line, column)
    });
    let mut message = d.message.to_string();
    if let Some(help) = &d.help {
        message.push_str(&format!(" ({help})"));
    }
    Located {
        message,
        line: position.map(|p| p.0),
        column: position.map(|p| p.1),
    }
}

/// TypeScript (or JavaScript) to a JavaScript script and its source map: parsed, checked,
/// types removed (oxc's TypeScript transform, nothing else lowered), printed.
type Compiled = (String, Vec<((u32, u32), (u32, u32))>);

fn compile(source: &str) -> Result<Compiled, Located> {
    let allocator = Allocator::default();
    let source_type = SourceType::ts().with_script(true);
    let parsed = Parser::new(&allocator, source, source_type).parse();
    if let Some(d) = parsed.diagnostics.iter().next() {
        return Err(located(source, d));
    }
    if parsed.panicked {
        return Err(Located {
            message: "the program cannot be parsed".into(),
            line: None,
            column: None,
        });
    }
    let mut program = parsed.program;
    let semantic = SemanticBuilder::new()
        .with_check_syntax_error(true)
        .with_enum_eval(true)
        .build(&program);
    if let Some(d) = semantic.diagnostics.iter().next() {
        return Err(located(source, d));
    }
    let scoping = semantic.semantic.into_scoping();
    let options = TransformOptions::from_target("esnext").unwrap_or_default();
    let transformed = Transformer::new(&allocator, Path::new("program.ts"), &options)
        .build_with_scoping(scoping, &mut program);
    if let Some(d) = transformed.diagnostics.iter().next() {
        return Err(located(source, d));
    }
    let printed = Codegen::new()
        .with_options(CodegenOptions {
            source_map_path: Some("program.ts".into()),
            ..CodegenOptions::default()
        })
        .build(&program);
    let mut map: Vec<((u32, u32), (u32, u32))> = printed
        .map
        .map(|m| {
            m.get_tokens()
                .map(|t| {
                    (
                        (t.get_dst_line(), t.get_dst_col()),
                        (t.get_src_line(), t.get_src_col()),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    map.sort_unstable();
    Ok((printed.code, map))
}

/// `(line, column)` of the first stack frame in `file` (`at f (program:3:9)`).
pub fn position_in_stack(stack: &str, file: &str) -> Option<(u32, u32)> {
    for frame in stack.lines() {
        let Some(at) = frame.find(&format!("{file}:")) else {
            continue;
        };
        let rest = &frame[at + file.len() + 1..];
        let mut parts = rest.split(|c: char| !c.is_ascii_digit());
        let line = parts.next()?.parse().ok()?;
        let column = parts.next().and_then(|c| c.parse().ok()).unwrap_or(1);
        return Some((line, column));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_are_dropped_and_lines_counted() {
        let (code, before) = unfence("Here:\n```ts\nconst a = 1;\nreturn a;\n```\nDone.");
        assert_eq!((code, before), ("const a = 1;\nreturn a;\n", 2));
        assert_eq!(unfence("return 1;"), ("return 1;", 0));
        assert_eq!(unfence("```js\nreturn 2;"), ("return 2;", 1));
    }

    #[test]
    fn types_are_removed_and_positions_map_back() {
        let p = prepare(
            "const n: number = 1;\ninterface A { x: string }\nenum Color { Red }\n\
             const bad = (n as number) + missing;\nreturn n;",
        )
        .unwrap();
        assert!(
            !p.script.contains("number") && !p.script.contains("interface"),
            "{}",
            p.script
        );
        assert!(
            p.script.contains("Color"),
            "enums become JavaScript: {}",
            p.script
        );
        // `missing` in the script maps back to line 4 of the program.
        let (line, col) = p
            .script
            .lines()
            .enumerate()
            .find_map(|(i, l)| l.find("missing").map(|c| (i as u32 + 1, c as u32 + 1)))
            .unwrap();
        let (l, c) = p.original_position(line, col);
        assert_eq!(l, Some(4), "{}", p.script);
        assert_eq!(c, Some(29));
    }

    #[test]
    fn function_forms_are_called() {
        for code in [
            "async () => { return 1; }",
            "async function main(): Promise<number> { return 1; }",
            "export default async () => 1",
        ] {
            let p = prepare(code).unwrap();
            assert!(is_one_function(&blank_export_default(code)), "{code}");
            assert!(!p.script.contains("=> {\n\t(async"), "{code}: {}", p.script);
        }
        // A body that merely starts with a function is a body.
        assert!(!is_one_function(
            "async function f() { return 2 }\nreturn await f();"
        ));
        assert!(!is_one_function("return (async () => 1)();"));
    }

    #[test]
    fn syntax_errors_have_their_position() {
        let e = prepare("const a = 1;\nconst b = ;\nreturn b;").unwrap_err();
        assert_eq!((e.name, e.line), ("SyntaxError", Some(2)), "{e:?}");
        assert_eq!(e.source.as_deref(), Some("const b = ;"));
        // In a fence, lines count from the submitted text.
        let e = prepare("```ts\nlet x = 1;\nlet = ;\n```").unwrap_err();
        assert_eq!(e.line, Some(3), "{e:?}");
        let e = prepare("let a = 1;\nlet a = 2;").unwrap_err();
        assert_eq!(e.line, Some(2), "redeclaration: {e:?}");
        let e = prepare(&"x".repeat(MAX_PROGRAM_BYTES + 1)).unwrap_err();
        assert!(e.too_long);
    }

    #[test]
    fn stack_positions_parse() {
        let stack =
            "Error: boom\n    at f (opcat-prelude:3:5)\n    at <anonymous> (program:7:12)\n";
        assert_eq!(position_in_stack(stack, "program"), Some((7, 12)));
        assert_eq!(position_in_stack("at x (other:1:1)", "program"), None);
    }
}

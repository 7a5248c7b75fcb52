/**
 * `deno task manpages`: regenerates man/knocktool.1 and man/knocktool.conf.5. The option lists come
 * from main.ts's parser (the same definitions `--help` prints), the directives from
 * src/config/directives.ts, the example from packaging/knockd.conf. The pages are checked in;
 * tests/manpages_test.ts fails when they are stale or miss an option or a directive.
 *
 * A little over 400 lines: most of it is the roff text of the two pages.
 *
 * @module
 */
import type { DocEntry, DocPage } from "@optique/core/doc";
import type { Message } from "@optique/core/message";
import { getDocPage } from "@optique/core/parser";
import type { Usage, UsageTerm } from "@optique/core/usage";
import { BRIEF, parser } from "../main.ts";
import { VERSION } from "../src/util/version.ts";
import { DEFAULT_STATE_DIR } from "../src/config/defaults.ts";
import { DEFAULT_CONTROL_PATH } from "../src/server/control.ts";
import { type DirectiveDoc, DIRECTIVES, type DirectiveSection } from "../src/config/directives.ts";

/** Each page, by its path relative to the repository root. */
export const MAN_FILES = {
  cli: "man/knocktool.1",
  conf: "man/knocktool.conf.5",
} as const;

/**
 * The commands `--help` lists that come from the command-line library (runParser's `help` and
 * `completion`), not from main.ts's parser, with what the page says about them.
 */
export const META_COMMANDS: readonly { name: string; usage: string; description: string }[] = [
  {
    name: "help",
    usage: "\\fBknocktool help\\fR [\\fICOMMAND\\fR...]",
    description: "Show the help of knocktool or of one command (the same as COMMAND --help).",
  },
  {
    name: "completion",
    usage: "\\fBknocktool completion\\fR \\fISHELL\\fR",
    description:
      "Print the completion script for bash, zsh or fish (the package installs them already).",
  },
];

/**
 * Escapes text for roff: backslashes, hyphens (as minus signs, so options copy and paste) and a
 * leading dot or quote.
 *
 * @param text Plain text.
 * @returns Text safe inside a roff line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { esc } from "./manpages.ts";
 * assert.equal(esc("--help"), "\\-\\-help");
 * assert.equal(esc(".x"), "\\&.x");
 * ```
 */
export function esc(text: string): string {
  const s = text.replaceAll("\\", "\\e").replaceAll("-", "\\-");
  return /^[.']/.test(s) ? "\\&" + s : s;
}

function bold(text: string): string {
  return `\\fB${esc(text)}\\fR`;
}

function italic(text: string): string {
  return `\\fI${esc(text)}\\fR`;
}

/** Renders an Optique message as roff text (option names bold, metavariables italic). */
function renderMessage(msg: Message): string {
  let out = "";
  for (const t of msg) {
    switch (t.type) {
      case "text":
        out += esc(t.text);
        break;
      case "optionName":
        out += bold(t.optionName);
        break;
      case "optionNames":
        out += t.optionNames.map(bold).join("/");
        break;
      case "metavar":
        out += italic(t.metavar);
        break;
      case "value":
        out += esc(t.value);
        break;
      case "values":
        out += t.values.map(esc).join(" ");
        break;
      case "envVar":
        out += bold(t.envVar);
        break;
      case "commandLine":
        out += bold(t.commandLine);
        break;
      case "lineBreak":
        out += "\n.br\n";
        break;
      case "url":
        out += esc(String(t.url));
        break;
      default:
        throw new Error(`Cannot render message term: unknown type ${JSON.stringify(t)}`);
    }
  }
  // Fill the page's own way: one sentence per source line is not needed, but no blank lines.
  return out.replace(/\n{2,}/g, "\n");
}

/** Renders one usage term as roff text. */
function renderTerm(term: UsageTerm): string {
  switch (term.type) {
    case "command":
      return bold(term.name);
    case "option":
      return term.names.map(bold).join("|") +
        (term.metavar !== undefined ? " " + italic(term.metavar) : "");
    case "argument":
      return italic(term.metavar);
    case "optional":
      return `[${renderUsage(term.terms)}]`;
    case "multiple": {
      const inner = renderUsage(term.terms) + "...";
      return term.min === 0 ? `[${inner}]` : inner;
    }
    case "exclusive":
      return `(${term.terms.map(renderUsage).join(" | ")})`;
    case "literal":
      return bold(term.value);
    default:
      throw new Error(`Cannot render usage term: unknown type "${term.type}"`);
  }
}

function renderUsage(usage: Usage): string {
  return usage.map(renderTerm).join(" ");
}

/** The term of an entry as a `.TP` tag line. */
function renderEntryTerm(term: UsageTerm): string {
  if (term.type === "option") {
    return term.names.map(bold).join(", ") +
      (term.metavar !== undefined ? " " + italic(term.metavar) : "");
  }
  return renderTerm(term);
}

/**
 * What the page says about a positional argument `--help` leaves undescribed, by command path and
 * metavariable. Better: give the argument a description in its parser, which `--help` shows too.
 */
const ARGUMENT_NOTES: Readonly<Record<string, string>> = {
  "knock HOST": "The host to knock: a name, an IPv4 or an IPv6 address.",
  "knock PORT[:PROTO[:FLAGS]]":
    "One knock: a port (or service name), optionally its protocol (tcp or udp) and, for TCP, its flags (PORT:tcp:FLAGS, flags joined by +, or none, or any); tportknockd's tcp:PORT:LETTERS works too.",
  "keygen FILE": "The file to create for the secret.",
};

function renderEntry(entry: DocEntry, path: readonly string[]): string {
  const note = entry.term.type === "argument"
    ? ARGUMENT_NOTES[`${path.join(" ")} ${entry.term.metavar}`]
    : undefined;
  const desc = entry.description !== undefined
    ? renderMessage(entry.description)
    : esc(note ?? "See the command's description above.");
  const shown = entry.default !== undefined ? renderMessage(entry.default) : "";
  // Said once: some descriptions name their default already.
  const dflt = shown !== "" && !desc.includes(shown) ? ` (default: ${shown})` : "";
  return `.TP\n${renderEntryTerm(entry.term)}\n${desc}${dflt}\n`;
}

/** The names of the commands a doc page lists, in order. */
function commandNames(page: DocPage): string[] {
  return page.sections.flatMap((s) =>
    s.entries.flatMap((e) => e.term.type === "command" ? [e.term.name] : [])
  );
}

/** One subcommand's section (and its own subcommands', if it has any). */
async function renderCommand(path: readonly string[]): Promise<string> {
  const page = await getDocPage(parser, [...path]);
  if (page === undefined) throw new Error(`Cannot document "${path.join(" ")}": no help page`);
  let out = `.SS "knocktool ${path.join(" ")}"\n.PP\n`;
  out += page.usage !== undefined ? `${bold("knocktool")} ${renderUsage(page.usage)}\n` : "";
  if (page.description !== undefined) out += `.PP\n${renderMessage(page.description)}\n`;
  const nested: string[] = [];
  for (const section of page.sections) {
    if (section.title !== undefined) out += `.PP\n${esc(section.title)}:\n`;
    for (const entry of section.entries) {
      if (entry.term.type === "command") nested.push(entry.term.name);
      else out += renderEntry(entry, path);
    }
  }
  for (const name of nested) out += await renderCommand([...path, name]);
  return out;
}

const EXIT_STATUS = `.TP
.B 0
Success, including \\fB\\-\\-help\\fR and \\fB\\-\\-version\\fR.
.TP
.B 1
An error: a config that does not load, an interface that cannot be opened, a usage error, a
\\fBknock\\fR that could not send, or a request to the server (\\fBstatus\\fR, \\fBrevoke\\fR,
\\fBgrant\\fR) that it refused or that could not reach it.
.TP
.B 2
\\fBserve\\fR ended by SIGINT (as knockd).
.TP
.B 3
\\fBknock \\-\\-check\\fR: the knock was sent but the port did not open.
.TP
.B 15
\\fBserve\\fR ended by SIGTERM (as knockd).
.PP
Started as \\fBknockd\\fR or \\fBknock\\fR, knocktool keeps those programs' exit statuses, including
knockd's 0 for an unknown option.
`;

const EXAMPLES = `.PP
Check a configuration and see the capture filter it needs on eth0:
.PP
.RS
.EX
knocktool check \\-c /etc/knocktool/knockd.conf \\-i eth0
.EE
.RE
.PP
Try a door without opening anything, replaying a capture:
.PP
.RS
.EX
knocktool serve \\-c door.conf \\-\\-pcap\\-file knock.pcap \\-\\-address 192.0.2.1 \\-\\-dry\\-run
.EE
.RE
.PP
Knock three ports, the last over UDP, then check that SSH opened:
.PP
.RS
.EX
knocktool knock \\-\\-check 22 gateway.example 7000 8000 9000:udp
.EE
.RE
`;

/**
 * Generates knocktool(1).
 *
 * @returns The page's roff source.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { manPage1 } from "./manpages.ts";
 * const page = await manPage1();
 * assert(page.includes('.SS "knocktool serve"'));
 * ```
 */
export async function manPage1(): Promise<string> {
  const top = await getDocPage(parser);
  if (top === undefined) throw new Error("Cannot document knocktool: no help page");
  const names = commandNames(top);
  let out = `.\\" Generated by tools/manpages.ts from main.ts's parser: do not edit.
.TH KNOCKTOOL 1 "" "knocktool ${VERSION}" "User Commands"
.nh
.SH NAME
knocktool \\- port\\-knocking server and client, compatible with knockd 0.8
.SH SYNOPSIS
`;
  for (const name of names) {
    const page = await getDocPage(parser, [name]);
    if (page?.usage === undefined) continue;
    out += `.PP\n${bold("knocktool")} ${renderUsage(page.usage)}\n`;
  }
  for (const meta of META_COMMANDS) out += `.PP\n${meta.usage}\n`;
  out += `.PP\n${bold("knocktool")} ${bold("--help")} | ${bold("--version")}\n`;
  out += `.SH DESCRIPTION
${renderMessage(BRIEF)}
.PP
\\fBknocktool serve\\fR watches an interface for knock sequences (connection attempts to closed ports
in a set order) and runs a command for each knocker that completes one, typically a firewall rule that
lets that address in, and later a command that takes it out again. It reads knockd's configuration
files, described in \\fBknocktool.conf\\fR(5). \\fBknocktool knock\\fR is the client.
.SH COMMANDS
`;
  for (const name of names) out += await renderCommand([name]);
  for (const meta of META_COMMANDS) {
    out += `.SS "knocktool ${meta.name}"\n.PP\n${meta.usage}\n.PP\n${esc(meta.description)}\n`;
  }
  out += `.SS "knocktool \\-\\-help, knocktool \\-\\-version"
.PP
Print the usage of every command, or the version, and exit 0.
.SH "COMPATIBILITY MODE"
Started through a link named \\fBknockd\\fR, knocktool is knockd 0.8: its options, usage text,
messages and exit statuses (\\fBserve\\fR's options above are a superset). Through a link named
\\fBknock\\fR it is knock 0.8's client. The package creates neither link, so that it never clashes
with Debian's knockd package; create them where you want them, for example
.PP
.RS
.EX
ln \\-s /usr/bin/knocktool /usr/local/sbin/knockd
ln \\-s /usr/bin/knocktool /usr/local/bin/knock
.EE
.RE
.SH "EXIT STATUS"
${EXIT_STATUS}.SH FILES
.TP
.I /etc/knocktool/knockd.conf
The packaged service's configuration (\\fBknocktool.conf\\fR(5)).
.TP
.I /etc/knockd.conf
The default of \\fB\\-c\\fR, as with knockd.
.TP
.I /etc/default/knocktool
Options the service passes to \\fBserve\\fR.
.TP
.I /usr/lib/systemd/system/knocktool.service
The service; installed, but not enabled until you enable it.
.TP
.I ${DEFAULT_STATE_DIR}
State_Dir's default: the grants and the used secret sequences, kept across restarts.
.TP
.I ${DEFAULT_CONTROL_PATH}
The control socket \\fBstatus\\fR, \\fBrevoke\\fR and \\fBgrant\\fR talk to (\\fBserve \\-\\-control\\fR).
.SH EXAMPLES
${EXAMPLES}.SH "SEE ALSO"
\\fBknocktool.conf\\fR(5), \\fBknockd\\fR(1), \\fBnft\\fR(8), \\fBiptables\\fR(8).
The documents cited under \\fIdocs/\\fR are installed, gzipped, in
\\fI/usr/share/doc/knocktool/docs/\\fR.
`;
  return out;
}

const SECTION_TITLES: Readonly<Record<DirectiveSection, string>> = {
  options: "DIRECTIVES OF [options]",
  door: "DIRECTIVES OF A DOOR",
  tportknockd: "TPORTKNOCKD FILES",
};

/** What each section's heading is followed by, before its directives. */
const SECTION_INTROS: Readonly<Record<DirectiveSection, string>> = {
  options: "",
  door: "",
  tportknockd:
    `\\fBserve \\-c\\fR and \\fBcheck \\-c\\fR also read tportknockd's configuration files,
told apart by their first line that is not blank or a comment: an event tag. Each event, a door,
is a block opened by \\fB<\\fR\\fINAME\\fR\\fB>\\fR and closed by \\fB</\\fR\\fINAME\\fR\\fB>\\fR, holding these
keys (case ignored). \\fB#\\fR starts a comment. knockd 0.8 cannot read such a file.
`,
};

function renderDirective(d: DirectiveDoc): string {
  const names = [d.name, ...(d.aliases ?? [])].map(bold).join(", ");
  const value = d.value !== undefined ? ` = ${italic(d.value)}` : "";
  let body = esc(d.description);
  if (d.default !== undefined) body += ` Default: ${esc(d.default)}.`;
  if (d.extension === true) body += "\n.br\nA knocktool extension: knockd 0.8 rejects it.";
  return `.TP\n${names}${value}\n${body}\n`;
}

/**
 * Generates knocktool.conf(5).
 *
 * @param example The example configuration (packaging/knockd.conf).
 * @returns The page's roff source.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { manPage5 } from "./manpages.ts";
 * assert(manPage5("[options]\n").includes("Seq_Timeout"));
 * ```
 */
export function manPage5(example: string): string {
  let out = `.\\" Generated by tools/manpages.ts from src/config/directives.ts: do not edit.
.TH KNOCKTOOL.CONF 5 "" "knocktool ${VERSION}" "File Formats"
.nh
.SH NAME
knocktool.conf \\- knocktool's configuration, in knockd.conf's format
.SH DESCRIPTION
\\fBknocktool serve\\fR and \\fBknocktool check\\fR read the file named by \\fB\\-c\\fR
(default \\fI/etc/knockd.conf\\fR; the package's service uses \\fI/etc/knocktool/knockd.conf\\fR).
Its format is knockd 0.8's, and a file knockd 0.8 loads, knocktool loads with the same meaning.
.PP
Lines are \\fIdirective\\fR = \\fIvalue\\fR pairs under a section header in brackets. The section
\\fB[options]\\fR (lower case) holds global settings; every other section is a \\fIdoor\\fR named
by its header, with its own knock sequence and commands. Directive names ignore case; values are
trimmed and otherwise kept as written. A line starting with \\fB#\\fR is a comment.
\\fBknocktool check\\fR explains what a file means and prints one line naming the knocktool
extensions it uses, which knockd 0.8 would reject.
`;
  for (const section of ["options", "door", "tportknockd"] as const) {
    const ds = DIRECTIVES.filter((d) => d.section === section);
    if (ds.length === 0) continue;
    out += `.SH "${SECTION_TITLES[section]}"\n${SECTION_INTROS[section]}`;
    for (const d of ds) out += renderDirective(d);
  }
  out += `.SH EXAMPLE
The example the package installs as \\fI/etc/knocktool/knockd.conf\\fR:
.PP
.RS
.EX
${example.trimEnd().split("\n").map((l) => esc(l.replaceAll("\t", "        "))).join("\n")}
.EE
.RE
.SH "SEE ALSO"
\\fBknocktool\\fR(1), \\fBknockd\\fR(1).
The documents cited under \\fIdocs/\\fR are installed, gzipped, in
\\fI/usr/share/doc/knocktool/docs/\\fR.
`;
  return out;
}

/**
 * Generates both pages.
 *
 * @returns Each page's text by its path relative to the repository root.
 */
export async function generateManPages(): Promise<Record<string, string>> {
  const example = await Deno.readTextFile(
    new URL("../packaging/knockd.conf", import.meta.url),
  );
  return { [MAN_FILES.cli]: await manPage1(), [MAN_FILES.conf]: manPage5(example) };
}

async function run(): Promise<number> {
  const root = new URL("..", import.meta.url);
  await Deno.mkdir(new URL("man", root), { recursive: true });
  for (const [path, text] of Object.entries(await generateManPages())) {
    await Deno.writeTextFile(new URL(path, root), text);
    console.error(`manpages: wrote ${path}`);
  }
  return 0;
}

if (import.meta.main) Deno.exit(await run());

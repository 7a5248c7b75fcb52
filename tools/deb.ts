/**
 * `deno task deb [--out-dir DIR] [ARCH...]`: builds `DIR/knocktool_<version>_<arch>.deb` (default
 * `dist/`, arches amd64 and arm64) with dpkg-deb, offline. The layout is {@linkcode MANIFEST};
 * docs/PACKAGING.md explains the choices.
 *
 * The executable comes from `deno compile` (as tools/compile.ts runs it), which needs Deno's runtime
 * base `denort` for the target. It is taken from `$DENORT_DIR/denort-<target>` (default
 * DENORT_DIR: /opt/knocktool-build). Where no denort exists (it cannot be downloaded on the
 * machines that run CI), the stand-in is used: the full `deno` binary for that target
 * (`$DENORT_DIR/deno-<target>`, which tools/setup.sh unpacks from npm, or this deno for the host's
 * target). A package built around the stand-in has the right layout, but its /usr/bin/knocktool
 * starts Deno's REPL instead of knocktool; the tool says so when it builds one.
 *
 * Over 400 lines because the manifest, the control files and the build steps of the package are
 * one build script.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { compileArgs } from "./compile.ts";
import { COMPLETION_FILES } from "./completions.ts";
import { MAN_FILES } from "./manpages.ts";
import { VERSION } from "../src/util/version.ts";
import { readEnv } from "../src/util/env.ts";

/** Debian architecture → Deno target. */
export const DEB_ARCHES: Readonly<Record<string, string>> = {
  amd64: "x86_64-unknown-linux-gnu",
  arm64: "aarch64-unknown-linux-gnu",
};

/** One file of the package. */
export interface ManifestEntry {
  /** Where it is installed, absolute. */
  readonly path: string;
  /** Its mode. */
  readonly mode: number;
  /** The repository file it is made from (`binary` for the compiled executable). */
  readonly source: string;
  /** How the source is transformed: copied, gzipped with -9n, or the unit's packaged paths. */
  readonly how: "copy" | "gzip" | "unit" | "binary";
  /** A conffile: dpkg keeps the admin's changes. */
  readonly conffile?: boolean;
}

/**
 * The README and docs/*.md, gzipped into /usr/share/doc/knocktool/ with docs/ kept as a folder,
 * since the man pages cite `docs/GRANTS.md` and the like.
 */
function docEntries(): ManifestEntry[] {
  const docs = new URL("../docs/", import.meta.url);
  const names = [...Deno.readDirSync(docs)]
    .filter((e) => e.isFile && e.name.endsWith(".md"))
    .map((e) => e.name)
    .sort();
  return [
    {
      path: "/usr/share/doc/knocktool/README.md.gz",
      mode: 0o644,
      source: "README.md",
      how: "gzip",
    },
    ...names.map((name): ManifestEntry => ({
      path: `/usr/share/doc/knocktool/docs/${name}.gz`,
      mode: 0o644,
      source: `docs/${name}`,
      how: "gzip",
    })),
  ];
}

/** Every file the package installs. */
export const MANIFEST: readonly ManifestEntry[] = [
  { path: "/usr/bin/knocktool", mode: 0o755, source: "binary", how: "binary" },
  {
    path: "/usr/lib/systemd/system/knocktool.service",
    mode: 0o644,
    source: "packaging/knocktool.service",
    how: "unit",
  },
  {
    path: "/etc/default/knocktool",
    mode: 0o644,
    source: "packaging/knocktool.default",
    how: "copy",
    conffile: true,
  },
  {
    path: "/etc/knocktool/knockd.conf",
    mode: 0o644,
    source: "packaging/knockd.conf",
    how: "copy",
    conffile: true,
  },
  {
    path: "/usr/share/bash-completion/completions/knocktool",
    mode: 0o644,
    source: COMPLETION_FILES.bash,
    how: "copy",
  },
  {
    path: "/usr/share/zsh/vendor-completions/_knocktool",
    mode: 0o644,
    source: COMPLETION_FILES.zsh,
    how: "copy",
  },
  {
    path: "/usr/share/fish/vendor_completions.d/knocktool.fish",
    mode: 0o644,
    source: COMPLETION_FILES.fish,
    how: "copy",
  },
  {
    path: "/usr/share/man/man1/knocktool.1.gz",
    mode: 0o644,
    source: MAN_FILES.cli,
    how: "gzip",
  },
  {
    path: "/usr/share/man/man5/knocktool.conf.5.gz",
    mode: 0o644,
    source: MAN_FILES.conf,
    how: "gzip",
  },
  {
    path: "/usr/share/doc/knocktool/copyright",
    mode: 0o644,
    source: "packaging/debian/copyright",
    how: "copy",
  },
  {
    path: "/usr/share/lintian/overrides/knocktool",
    mode: 0o644,
    source: "packaging/debian/lintian-overrides",
    how: "copy",
  },
  {
    path: "/usr/share/doc/knocktool/changelog.Debian.gz",
    mode: 0o644,
    source: "packaging/debian/changelog",
    how: "gzip",
  },
  ...docEntries(),
];

/** The maintainer scripts, from packaging/debian/. */
export const MAINTAINER_SCRIPTS: readonly string[] = ["postinst", "prerm", "postrm"];

/** Where the packaged service reads its config (Debian's knockd package owns /etc/knockd.conf). */
export const PACKAGED_CONFIG = "/etc/knocktool/knockd.conf";

/**
 * The unit as the package installs it: the binary in /usr/bin, the config in /etc/knocktool, and
 * the man pages as documentation.
 *
 * @param text packaging/knocktool.service, written for a manual install.
 * @returns The packaged unit.
 * @throws {Error} When the unit no longer has what is replaced.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { packagedUnit } from "./deb.ts";
 * const unit = packagedUnit(await Deno.readTextFile("packaging/knocktool.service"));
 * assert(unit.includes("ExecStart=/usr/bin/knocktool serve -c /etc/knocktool/knockd.conf"));
 * ```
 */
export function packagedUnit(text: string): string {
  const replace = (s: string, from: RegExp, to: string): string => {
    if (!from.test(s)) throw new Error(`Cannot package the unit: it has no ${from}`);
    return s.replace(from, to);
  };
  let unit = text.replace(/^(#[^\n]*\n)+/, "");
  unit = replace(
    unit,
    /^Documentation=.*$/m,
    "Documentation=man:knocktool(1) man:knocktool.conf(5)",
  );
  unit = replace(unit, /\/usr\/local\/bin\/knocktool/g, "/usr/bin/knocktool");
  unit = replace(unit, /-c \/etc\/knockd\.conf/g, `-c ${PACKAGED_CONFIG}`);
  return `# knocktool: port-knock server (Debian package). Not enabled on install: write
# ${PACKAGED_CONFIG}, then \`systemctl enable --now knocktool\`.
${unit}`;
}

/**
 * The package's Debian version, from packaging/debian/changelog.
 *
 * @param changelog The changelog's text.
 * @returns The version and the first entry's date (seconds since the epoch, for reproducible
 *   mtimes).
 * @throws {Error} When the first entry does not match knocktool's VERSION.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { changelogVersion } from "./deb.ts";
 * import { VERSION } from "../src/util/version.ts";
 * const text = `knocktool (${VERSION}-2) unstable; urgency=medium\n\n  * x\n\n` +
 *   " -- A <a@example.org>  Sat, 05 Dec 2026 05:00:00 +0000\n";
 * assert.deepEqual(changelogVersion(text), { version: `${VERSION}-2`, epoch: 1796446800 });
 * ```
 */
export function changelogVersion(changelog: string): { version: string; epoch: number } {
  const head = /^knocktool \(([^)]+)\)/.exec(changelog);
  const date = /^ -- .*> {2}(.+)$/m.exec(changelog);
  if (head === null || date === null) {
    throw new Error("Cannot read packaging/debian/changelog: no first entry with a date");
  }
  const version = head[1] as string;
  if (!version.startsWith(`${VERSION}-`)) {
    throw new Error(
      `Cannot build the package: changelog version "${version}" is not "${VERSION}-N" (src/util/version.ts)`,
    );
  }
  return { version, epoch: Math.floor(Date.parse(date[1] as string) / 1000) };
}

/**
 * The DEBIAN/control file.
 *
 * @param version The Debian version.
 * @param arch The Debian architecture.
 * @param installedKiB The installed size.
 * @returns The control file's text.
 */
export function controlFile(version: string, arch: string, installedKiB: number): string {
  return `Package: knocktool
Version: ${version}
Architecture: ${arch}
Maintainer: knocktool maintainers <knocktool@example.org>
Installed-Size: ${installedKiB}
Depends: libc6 (>= 2.28), libgcc-s1, libpcap0.8 (>= 1.8) | libpcap0.8t64
Recommends: nftables | iptables, libnftables1
Section: net
Priority: optional
Description: port-knock server and client, compatible with knockd 0.8
 knocktool watches a network interface for knock sequences (connection
 attempts to closed ports in a set order) and runs a command for each host
 that completes one, typically a firewall rule that lets that host in, and
 later a command that takes it out again. It reads knockd's configuration
 files and keeps knockd's behaviour; "knocktool knock" is the client.
 .
 The service is installed but not enabled: write /etc/knocktool/knockd.conf,
 then run "systemctl enable --now knocktool".
`;
}

/**
 * Reads the tool's arguments.
 *
 * @param args `[--out-dir DIR] [ARCH...]`; an arch is a Debian name or a Deno target.
 * @returns The output directory and Debian arches (default: all), or an error message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDebArgs } from "./deb.ts";
 * assert.deepEqual(parseDebArgs(["aarch64-unknown-linux-gnu"]), { outDir: "dist", arches: ["arm64"] });
 * assert.deepEqual(parseDebArgs(["i386"]), {
 *   error: 'Cannot build a package for "i386": arch must be one of "amd64", "arm64"',
 * });
 * ```
 */
export function parseDebArgs(
  args: readonly string[],
): { outDir: string; arches: string[] } | { error: string } {
  let outDir = "dist";
  const arches: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--out-dir") {
      const dir = args[++i];
      if (dir === undefined) {
        return { error: `Cannot read "--out-dir": a directory must follow it` };
      }
      outDir = dir;
      continue;
    }
    const arch = Object.hasOwn(DEB_ARCHES, arg)
      ? arg
      : Object.keys(DEB_ARCHES).find((a) => DEB_ARCHES[a] === arg);
    if (arch === undefined) {
      return {
        error: `Cannot build a package for "${arg}": arch must be one of ${
          Object.keys(DEB_ARCHES).map((a) => `"${a}"`).join(", ")
        }`,
      };
    }
    if (!arches.includes(arch)) arches.push(arch);
  }
  return { outDir, arches: arches.length > 0 ? arches : Object.keys(DEB_ARCHES) };
}

/** The runtime base for a target: a real denort, else the stand-in, else an error. */
export function findDenort(
  target: string,
  dir = readEnv("DENORT_DIR") ?? "/opt/knocktool-build",
): { path: string; standIn: boolean } | { error: string } {
  const exists = (p: string) => {
    try {
      return Deno.statSync(p).isFile;
    } catch {
      return false;
    }
  };
  if (exists(`${dir}/denort-${target}`)) return { path: `${dir}/denort-${target}`, standIn: false };
  if (exists(`${dir}/deno-${target}`)) return { path: `${dir}/deno-${target}`, standIn: true };
  if (target === Deno.build.target) return { path: Deno.execPath(), standIn: true };
  return {
    error:
      `Cannot build for "${target}": neither "${dir}/denort-${target}" nor the stand-in "${dir}/deno-${target}" exists (run tools/setup.sh)`,
  };
}

async function sh(cmd: string, args: string[], opts: Deno.CommandOptions = {}): Promise<string> {
  const r = await new Deno.Command(cmd, { args, stdin: "null", ...opts }).output();
  if (!r.success) {
    throw new Error(
      `Cannot build the package: ${cmd} ${args.join(" ")} exited with status ${r.code}: ${
        new TextDecoder().decode(r.stderr).trim()
      }`,
    );
  }
  return new TextDecoder().decode(r.stdout);
}

/** What {@linkcode buildDeb} made. */
export interface BuiltDeb {
  /** The .deb's path. */
  readonly path: string;
  /** True when /usr/bin/knocktool is the stand-in (the full deno), not a runnable knocktool. */
  readonly standIn: boolean;
}

/**
 * Builds one package.
 *
 * @param arch A Debian architecture from {@linkcode DEB_ARCHES}.
 * @param outDir Where the .deb goes (created if needed).
 * @returns The package's path and whether it holds the stand-in.
 */
export async function buildDeb(arch: string, outDir: string): Promise<BuiltDeb> {
  const root = new URL("..", import.meta.url).pathname;
  const target = DEB_ARCHES[arch];
  if (target === undefined) throw new Error(`Cannot build a package for "${arch}": unknown arch`);
  const denort = findDenort(target);
  if ("error" in denort) throw new Error(denort.error);
  const { version, epoch } = changelogVersion(
    await Deno.readTextFile(`${root}packaging/debian/changelog`),
  );
  const stage = await Deno.makeTempDir({ prefix: `knocktool-deb-${arch}-` });
  try {
    // The executable, compiled exactly as `deno task compile` does.
    await sh(Deno.execPath(), compileArgs(target, stage), {
      cwd: root,
      env: { DENORT_BIN: denort.path },
    });
    const tree = `${stage}/tree`;
    const dirs = new Set<string>();
    for (const entry of MANIFEST) {
      const dest = tree + entry.path;
      const parent = dest.slice(0, dest.lastIndexOf("/"));
      await Deno.mkdir(parent, { recursive: true });
      for (
        let d = entry.path.slice(0, entry.path.lastIndexOf("/"));
        d !== "";
        d = d.slice(0, d.lastIndexOf("/"))
      ) {
        dirs.add(d);
      }
      switch (entry.how) {
        case "binary":
          await Deno.rename(`${stage}/knocktool-${target}`, dest);
          break;
        case "copy":
          await Deno.copyFile(`${root}${entry.source}`, dest);
          break;
        case "unit":
          await Deno.writeTextFile(
            dest,
            packagedUnit(await Deno.readTextFile(`${root}${entry.source}`)),
          );
          break;
        case "gzip":
          await sh("sh", ["-c", `gzip -9nc "$1" > "$2"`, "sh", `${root}${entry.source}`, dest]);
          break;
      }
      await Deno.chmod(dest, entry.mode);
    }
    for (const d of dirs) await Deno.chmod(tree + d, 0o755);

    const control = `${tree}/DEBIAN`;
    await Deno.mkdir(control);
    await Deno.chmod(control, 0o755);
    let kib = dirs.size;
    const sums: string[] = [];
    for (const entry of MANIFEST) {
      const bytes = await Deno.readFile(tree + entry.path);
      kib += Math.ceil(bytes.length / 1024);
      sums.push(`${createHash("md5").update(bytes).digest("hex")}  ${entry.path.slice(1)}\n`);
    }
    const writeControl = async (name: string, text: string, mode: number) => {
      await Deno.writeTextFile(`${control}/${name}`, text);
      await Deno.chmod(`${control}/${name}`, mode);
    };
    await writeControl("control", controlFile(version, arch, kib), 0o644);
    await writeControl(
      "conffiles",
      MANIFEST.filter((e) => e.conffile === true).map((e) => e.path + "\n").join(""),
      0o644,
    );
    await writeControl("md5sums", sums.join(""), 0o644);
    for (const script of MAINTAINER_SCRIPTS) {
      await writeControl(
        script,
        await Deno.readTextFile(`${root}packaging/debian/${script}`),
        0o755,
      );
    }
    // Reproducible: every file and directory gets the changelog's date.
    await sh("find", [tree, "-exec", "touch", "-h", "-d", `@${epoch}`, "{}", "+"]);

    await Deno.mkdir(outDir, { recursive: true });
    const path = `${outDir}/knocktool_${version}_${arch}.deb`;
    await sh("dpkg-deb", [
      "--root-owner-group",
      // gzip: xz takes minutes for the 100 MB executable on a loaded 2-core machine, gzip seconds.
      "-Zgzip",
      "-z6",
      "--build",
      tree,
      path,
    ], {
      env: { SOURCE_DATE_EPOCH: String(epoch) },
    });
    return { path, standIn: denort.standIn };
  } finally {
    await Deno.remove(stage, { recursive: true });
  }
}

async function run(args: readonly string[]): Promise<number> {
  const parsed = parseDebArgs(args);
  if ("error" in parsed) {
    console.error(parsed.error);
    return 2;
  }
  for (const arch of parsed.arches) {
    try {
      const built = await buildDeb(arch, parsed.outDir);
      console.error(`deb: wrote ${built.path}`);
      if (built.standIn) {
        console.error(
          `deb: ${arch}: /usr/bin/knocktool is the stand-in (the full deno binary; it starts Deno's REPL, not knocktool): no denort for ${
            DEB_ARCHES[arch]
          } in DENORT_DIR. The layout is right; do not install this package on a real machine`,
        );
      }
    } catch (e) {
      console.error(e instanceof Error ? e.message : String(e));
      return 1;
    }
  }
  return 0;
}

if (import.meta.main) Deno.exit(await run(Deno.args));

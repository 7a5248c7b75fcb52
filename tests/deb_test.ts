/**
 * The Debian package `deno task deb` builds: its control data, its layout (paths, modes, owners,
 * conffiles), its contents against the repository, lintian's verdict, and an install and a purge
 * with dpkg into a throwaway root.
 *
 * What is checked is the package's layout, not the executable: where Deno's `denort` cannot be
 * downloaded (as on the machines that run CI) /usr/bin/knocktool is the stand-in `deno compile`
 * makes around the full `deno` binary (docs/PACKAGING.md), so only its architecture is checked.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  changelogVersion,
  DEB_ARCHES,
  MAINTAINER_SCRIPTS,
  MANIFEST,
  packagedUnit,
  parseDebArgs,
} from "../tools/deb.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const dec = new TextDecoder();

async function run(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  const o = await new Deno.Command(cmd, {
    args,
    cwd: ROOT,
    env: { LC_ALL: "C.UTF-8", ...env },
    stdin: "null",
    signal: AbortSignal.timeout(600_000),
  }).output();
  return { code: o.code, out: dec.decode(o.stdout), err: dec.decode(o.stderr) };
}

async function ok(cmd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await run(cmd, args, env);
  assert.equal(r.code, 0, `${cmd} ${args.join(" ")} exited ${r.code}: ${r.err}`);
  return r.out;
}

/** Every directory above the manifest's files, e.g. `/usr`, `/usr/bin`. */
function manifestDirs(): Set<string> {
  const dirs = new Set<string>();
  for (const { path } of MANIFEST) {
    for (
      let d = path.slice(0, path.lastIndexOf("/"));
      d !== "";
      d = d.slice(0, d.lastIndexOf("/"))
    ) {
      dirs.add(d);
    }
  }
  return dirs;
}

/** ELF e_machine of each arch's executable. */
const ELF_MACHINE: Readonly<Record<string, number>> = { amd64: 62, arm64: 183 };

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("deb: arguments name Debian arches or Deno targets; the unit is repointed", async () => {
  assert.deepStrictEqual(parseDebArgs([]), { outDir: "dist", arches: ["amd64", "arm64"] });
  assert.deepStrictEqual(parseDebArgs(["--out-dir", "x", "x86_64-unknown-linux-gnu", "amd64"]), {
    outDir: "x",
    arches: ["amd64"],
  });
  assert.deepStrictEqual(parseDebArgs(["--out-dir"]), {
    error: `Cannot read "--out-dir": a directory must follow it`,
  });
  const unit = packagedUnit(await Deno.readTextFile(`${ROOT}packaging/knocktool.service`));
  assert.doesNotMatch(unit, /\/usr\/local|\/etc\/knockd\.conf/);
  assert.match(
    unit,
    /^ExecStartPre=\/usr\/bin\/knocktool check -c \/etc\/knocktool\/knockd\.conf$/m,
  );
  assert.throws(() => packagedUnit("[Service]\n"), {
    message: "Cannot package the unit: it has no /^Documentation=.*$/m",
  });
  assert.throws(
    () =>
      changelogVersion(
        "knocktool (9.9.9-1) unstable\n -- A <a@b>  Sat, 05 Dec 2026 05:00:00 +0000\n",
      ),
    {
      message: /^Cannot build the package: changelog version "9\.9\.9-1" is not "/,
    },
  );
});

Deno.test({
  name:
    "deb: deno task deb builds both packages; layout, contents, lintian, dpkg install and purge",
  fn: async (t) => {
    const { version } = changelogVersion(
      await Deno.readTextFile(`${ROOT}packaging/debian/changelog`),
    );
    const out = await Deno.makeTempDir({ prefix: "kt-deb-" });
    try {
      const built = await run(Deno.execPath(), ["run", "-A", "tools/deb.ts", "--out-dir", out]);
      assert.equal(built.code, 0, built.err);
      const debs: Record<string, string> = {};
      for (const arch of Object.keys(DEB_ARCHES)) {
        debs[arch] = `${out}/knocktool_${version}_${arch}.deb`;
        assert(built.err.includes(`deb: wrote ${debs[arch]}`), built.err);
      }

      for (const [arch, deb] of Object.entries(debs)) {
        await t.step(
          `${arch}: dpkg-deb -I: control fields, conffiles, maintainer scripts`,
          async () => {
            const field = async (name: string) => (await ok("dpkg-deb", ["-f", deb, name])).trim();
            assert.equal(await field("Package"), "knocktool");
            assert.equal(await field("Version"), version);
            assert.equal(await field("Architecture"), arch);
            // libpcap and libnftables are loaded through FFI: no ELF dependency shows them.
            assert.match(await field("Depends"), /libpcap0\.8/);
            assert.match(await field("Recommends"), /libnftables1/);
            assert.equal(await field("Conflicts"), "");
            const info = await ok("dpkg-deb", ["-I", deb]);
            for (const script of MAINTAINER_SCRIPTS) {
              assert.match(
                info,
                new RegExp(`^ +\\d+ bytes, +\\d+ lines +\\* +${script} +#!/bin/sh$`, "m"),
              );
              assert.equal(
                await ok("dpkg-deb", ["-I", deb, script]),
                await Deno.readTextFile(`${ROOT}packaging/debian/${script}`),
              );
              await ok("sh", ["-n", `${ROOT}packaging/debian/${script}`]);
            }
            assert.equal(
              await ok("dpkg-deb", ["-I", deb, "conffiles"]),
              MANIFEST.filter((e) => e.conffile).map((e) => e.path + "\n").join(""),
            );
          },
        );

        await t.step(`${arch}: dpkg-deb -c: exactly the manifest, modes, root:root`, async () => {
          const listed = new Map<string, { mode: string; owner: string }>();
          for (const line of (await ok("dpkg-deb", ["-c", deb])).trim().split("\n")) {
            const m = /^(\S+) (\S+) +\d+ \S+ \S+ \.(\/\S*?)\/?$/.exec(line);
            assert(m !== null, `unexpected line: ${line}`);
            if (m[3] !== "/") {
              listed.set(m[3] as string, { mode: m[1] as string, owner: m[2] as string });
            }
          }
          const expected = new Map<string, string>();
          for (const d of manifestDirs()) expected.set(d, "drwxr-xr-x");
          for (const e of MANIFEST) {
            expected.set(e.path, e.mode === 0o755 ? "-rwxr-xr-x" : "-rw-r--r--");
          }
          assert.deepStrictEqual(
            [...listed.keys()].sort(),
            [...expected.keys()].sort(),
          );
          for (const [path, { mode, owner }] of listed) {
            assert.equal(owner, "root/root", path);
            assert.equal(mode, expected.get(path), path);
          }
          // No knockd or knock names: they would clash with Debian's knockd package.
          assert.deepStrictEqual([...listed.keys()].filter((p) => /\/knockd?$/.test(p)), []);
        });

        await t.step(
          `${arch}: dpkg-deb -x: every file is made from its repository source`,
          async () => {
            const tree = `${out}/x-${arch}`;
            await ok("dpkg-deb", ["-x", deb, tree]);
            for (const e of MANIFEST) {
              const got = await Deno.readFile(tree + e.path);
              switch (e.how) {
                case "copy":
                  assert.deepStrictEqual(got, await Deno.readFile(ROOT + e.source), e.path);
                  break;
                case "gzip":
                  // gzip -9n: no file name (FLG bit 3) and no time stamp in the header.
                  assert.equal(got[3]! & 0x08, 0, `${e.path} stores a file name`);
                  assert.deepStrictEqual([...got.subarray(4, 8)], [0, 0, 0, 0], `${e.path} mtime`);
                  assert.equal(
                    await ok("gzip", ["-dc", tree + e.path]),
                    await Deno.readTextFile(ROOT + e.source),
                    e.path,
                  );
                  break;
                case "unit":
                  assert.equal(
                    dec.decode(got),
                    packagedUnit(await Deno.readTextFile(ROOT + e.source)),
                  );
                  break;
                case "binary":
                  // The layout is what is checked; of the stand-in executable only its ELF machine.
                  assert.deepStrictEqual([...got.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46]);
                  assert.equal(got[18]! | (got[19]! << 8), ELF_MACHINE[arch], `${e.path} machine`);
                  break;
              }
            }
          },
        );

        await t.step(
          `${arch}: lintian: no error; every warning explained in README.md`,
          async () => {
            // lintian exits non-zero on errors; its tags are read from the output either way.
            const r = await run("lintian", ["--no-tag-display-limit", deb]);
            const tags = r.out.split("\n").filter((l) => /^[EWIPXO]: /.test(l));
            assert.deepStrictEqual(tags.filter((l) => l.startsWith("E: ")), [], r.out + r.err);
            assert.equal(r.code, 0, r.out + r.err);
            const readme = await Deno.readTextFile(`${ROOT}README.md`);
            for (const w of tags.filter((l) => l.startsWith("W: "))) {
              const tag = /^W: knocktool: (\S+)/.exec(w)?.[1] ?? w;
              assert(readme.includes(`\`${tag}\``), `README.md does not explain ${w}`);
            }
          },
        );
      }

      await t.step("amd64: dpkg -i into a throwaway root, then purge", async () => {
        const root = `${out}/root`;
        await Deno.mkdir(`${root}/var/lib/dpkg/updates`, { recursive: true });
        await Deno.mkdir(`${root}/var/lib/dpkg/info`);
        await Deno.writeTextFile(`${root}/var/lib/dpkg/status`, "");
        // Scripts run outside a chroot with DPKG_ROOT set, as deb-systemd-helper supports; the
        // root has no libc or libpcap, hence --force-depends.
        const dpkg = (...args: string[]) =>
          ok("dpkg", [
            `--root=${root}`,
            "--force-script-chrootless",
            "--force-depends",
            "--log=/dev/null",
            ...args,
          ]);
        await dpkg("-i", debs.amd64 as string);
        for (const e of MANIFEST) {
          const st = await Deno.stat(root + e.path);
          assert.equal(st.mode! & 0o7777, e.mode, e.path);
          assert.equal(st.uid, 0, e.path);
          assert.equal(st.gid, 0, e.path);
        }
        const listed = (await dpkg("-L", "knocktool")).trim().split("\n").filter((p) => p !== "/.");
        assert.deepStrictEqual(
          listed.sort(),
          [...manifestDirs(), ...MANIFEST.map((e) => e.path)].sort(),
        );
        const status = await Deno.readTextFile(`${root}/var/lib/dpkg/status`);
        assert.match(status, /^Status: install ok installed$/m);
        for (const e of MANIFEST.filter((e) => e.conffile)) {
          assert.match(status, new RegExp(`^ ${e.path} [0-9a-f]{32}$`, "m"));
        }
        // Registered with deb-systemd-helper, but not enabled: no .wants link anywhere.
        assert(
          exists(`${root}/var/lib/systemd/deb-systemd-helper-enabled/knocktool.service.dsh-also`),
        );
        const wants = await run("find", [root, "-path", "*.wants/knocktool.service"]);
        assert.equal(wants.out, "");

        await dpkg("--purge", "knocktool");
        for (
          const path of [
            ...MANIFEST.map((e) => e.path),
            "/var/lib/systemd/deb-systemd-helper-enabled/knocktool.service.dsh-also",
            "/etc/knocktool",
          ]
        ) {
          assert(!exists(root + path), `${path} left after purge`);
        }
      });
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});

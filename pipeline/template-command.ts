import * as fs from "fs";
import * as path from "path";
import { spawn } from "child_process";
import { OPTIONS, textValue, type CommandOptions, type OptionName, type OptionSpec } from "./options";
import { templateMetadata } from "./template-metadata";
import { UsageError } from "./usage-error";

/**
 * `api2lake template metadata|build|launch`: the Flex Template's metadata (derived from the
 * option declarations) and thin wrappers of the two gcloud commands that build and launch it.
 * `--print` prints the exact command instead of running it. Commands are argv arrays (never a
 * shell string), so a value is passed as typed.
 */

/** Writes the Flex Template metadata derived from the option declarations to `--templateOut`. */
export async function templateMetadataCommand(options: CommandOptions<"template metadata">): Promise<number> {
  const file = writeMetadata(options.templateOut);
  console.log(`wrote ${file} (${templateMetadata().parameters.length} parameters)`);
  return 0;
}

/** `gcloud dataflow flex-template build` of the spec at `--templateFile` with `--image` and the metadata file. */
export function flexTemplateBuildArgv(options: CommandOptions<"template build">): string[] {
  const argv = ["gcloud", "dataflow", "flex-template", "build", options.templateFile, "--image", options.image, "--sdk-language", "PYTHON",
    "--metadata-file", path.resolve(options.templateOut)];
  if (options.project) argv.push("--project", options.project);
  return argv;
}

/** Writes the metadata, then builds the template spec (or, with --print, prints the gcloud command). */
export async function templateBuildCommand(options: CommandOptions<"template build">): Promise<number> {
  const argv = flexTemplateBuildArgv(options);
  if (options.print) {
    console.log(shellLine(argv));
    return 0;
  }
  writeMetadata(options.templateOut);
  return runGcloud(argv);
}

/** The template parameters a launch passes: every template option given with a value other than its default, as text. */
export function launchParameters(options: CommandOptions<"template launch">): [string, string][] {
  const out: [string, string][] = [];
  for (const name of Object.keys(OPTIONS) as OptionName[]) {
    const spec: OptionSpec = OPTIONS[name];
    const value = options[name];
    if (!spec.template || !spec.commands.includes("template launch") || value === undefined) continue;
    const text = textValue(value);
    if (text !== "" && text !== spec.default) out.push([name, text]);
  }
  return out;
}

/**
 * `gcloud dataflow flex-template run JOB --template-file-gcs-location ... --region ... --parameters k=v,...`.
 * A value holding a comma (a list such as `--entities a,b`) switches the parameter list to
 * gcloud's alternate delimiter syntax (`^~^k=v~k2=a,b`, see `gcloud topic escaping`).
 * @param now the clock of the default job name `api2lake-YYYYMMDD-HHMMSS` (UTC)
 */
export function flexTemplateRunArgv(options: CommandOptions<"template launch">, now: Date = new Date()): string[] {
  const jobName = options.jobName ?? `api2lake-${now.toISOString().slice(0, 19).replace(/-|:/g, "").replace("T", "-")}`;
  const pairs = launchParameters(options).map((p) => `${p[0]}=${p[1]}`);
  const delimiter = pairs.some((p) => p.includes(",")) ? ["~", "|", ";", "#", "@"].find((d) => pairs.every((p) => !p.includes(d))) : ",";
  if (delimiter === undefined) throw new UsageError("template parameters hold every delimiter gcloud accepts (, ~ | ; # @): pass them without one of these");
  const parameters = (delimiter === "," ? "" : `^${delimiter}^`) + pairs.join(delimiter);
  const argv = ["gcloud", "dataflow", "flex-template", "run", jobName, "--template-file-gcs-location", options.templateFile,
    "--region", options.region, "--project", options.project, "--parameters", parameters];
  if (options.serviceAccountEmail) argv.push("--service-account-email", options.serviceAccountEmail);
  if (options.maxNumWorkers !== undefined) argv.push("--max-workers", String(options.maxNumWorkers));
  return argv;
}

/** Launches the template once (or, with --print, prints the gcloud command). */
export async function templateLaunchCommand(options: CommandOptions<"template launch">): Promise<number> {
  const argv = flexTemplateRunArgv(options);
  if (options.print) {
    console.log(shellLine(argv));
    return 0;
  }
  return runGcloud(argv);
}

function writeMetadata(templateOut: string): string {
  const file = path.resolve(templateOut);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(templateMetadata(), null, 2) + "\n");
  return file;
}

/** A command line a POSIX shell reads back as the same argv (single quotes where needed). */
export function shellLine(argv: readonly string[]): string {
  return argv.map((a) => (/^[-A-Za-z0-9_./:=@,+]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(" ");
}

/**
 * Runs gcloud with the terminal attached and resolves to its exit code.
 * @throws UsageError when no `gcloud` is on PATH (install the Google Cloud CLI, or use --print)
 */
function runGcloud(argv: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: "inherit" });
    child.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") reject(new UsageError("gcloud is not on PATH: install the Google Cloud CLI, or add --print to see the command"));
      else reject(error);
    });
    child.on("close", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

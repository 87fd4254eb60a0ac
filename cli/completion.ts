import type { Command } from 'commander';

/** Every command path ("", "stream", "stream add", ...) with its subcommands and options. */
function walk(cmd: Command, path: string[], out: Map<string, { subs: string[]; opts: string[] }>): void {
  const subs = cmd.commands.flatMap((c) => [c.name(), ...c.aliases()]);
  const opts = cmd.options.flatMap((o) => [o.long, o.short].filter((x): x is string => Boolean(x)));
  if (cmd.commands.length) opts.push('--help');
  out.set(path.join(' '), { subs, opts: [...new Set([...opts, '--help'])] });
  for (const c of cmd.commands) for (const name of [c.name(), ...c.aliases()]) walk(c, [...path, name], out);
}

/**
 * A bash completion script built from the live command tree, so it never drifts from
 * the commands: it finds the longest known command path in the words typed so far and
 * offers that command's subcommands and options (file names after options that take one).
 */
export function bashCompletion(program: Command): string {
  const table = new Map<string, { subs: string[]; opts: string[] }>();
  walk(program, [], table);
  const cases = [...table.entries()]
    .map(([path, v]) => `    "${path}") words_="${[...v.subs, ...v.opts].join(' ')}" ;;`)
    .join('\n');
  return `# bash completion for vigil; load with: source <(vigil completion bash)
_vigil_complete() {
  local cur path_ try_ w words_ i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  path_=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    try_="\${path_:+$path_ }$w"
    case "$try_" in
${[...table.keys()].filter((k) => k).map((k) => `      "${k}") path_="$try_" ;;`).join('\n')}
    esac
  done
  case "$path_" in
${cases}
    *) words_="" ;;
  esac
  case "\${COMP_WORDS[COMP_CWORD-1]}" in
    -c|--config|--out|--image|--manifest|--mirror|--data-dir) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  COMPREPLY=($(compgen -W "$words_" -- "$cur"))
}
complete -o default -F _vigil_complete vigil
`;
}

/** `vigil completion bash`: prints the completion script. */
export function registerCompletionCommand(program: Command): void {
  program
    .command('completion <shell>')
    .description('print a shell completion script (bash; zsh via bashcompinit): source <(vigil completion bash)')
    .action((shell: string) => {
      if (shell !== 'bash' && shell !== 'zsh') {
        process.stderr.write(`VIGIL_ERR_BAD_REQUEST: no completion for "${shell}"; use bash (or zsh with bashcompinit).\n`);
        process.exitCode = 2;
        return;
      }
      const pre = shell === 'zsh' ? 'autoload -U +X bashcompinit && bashcompinit\n' : '';
      process.stdout.write(pre + bashCompletion(program));
    });
}

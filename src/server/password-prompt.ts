/**
 * Reading a new password for `gatehouse user add`: from a terminal without echo (typed twice), or the
 * first line of piped stdin. Never from the environment or the command line, where other processes
 * and the shell history would see it.
 */
import { createInterface } from 'node:readline';
import { StringDecoder } from 'node:string_decoder';

/** The streams a prompt talks to (process.stdin / process.stderr by default; tests pass others). */
export interface PromptIo {
  input: NodeJS.ReadStream;
  output: NodeJS.WritableStream;
}

const defaultIo = (): PromptIo => ({ input: process.stdin, output: process.stderr });

/**
 * The new password. On a terminal: prompts on stderr with echo off, twice, and refuses a mismatch.
 * Otherwise: the first line of stdin (`echo "$PW" | gatehouse user add …`).
 */
export async function readNewPassword(io: PromptIo = defaultIo()): Promise<string> {
  if (io.input.isTTY && typeof io.input.setRawMode === 'function') {
    const first = await readHidden(io, 'password: ');
    const again = await readHidden(io, 'repeat password: ');
    if (first !== again) throw new Error('the two passwords differ; nothing was changed');
    return first;
  }
  const rl = createInterface({ input: io.input, terminal: false });
  for await (const line of rl) {
    rl.close();
    return line;
  }
  throw new Error('no password on stdin');
}

/**
 * One line from a terminal in raw mode: nothing typed is echoed. Enter ends it; Backspace and Ctrl-U
 * edit; Ctrl-C cancels; Ctrl-D on an empty line ends input; escape sequences (arrow keys) are ignored.
 */
function readHidden(io: PromptIo, prompt: string): Promise<string> {
  const { input, output } = io;
  return new Promise((resolve, reject) => {
    const decoder = new StringDecoder('utf8');
    let typed: string[] = [];
    let escape: 'none' | 'esc' | 'csi' = 'none';
    const finish = (err: Error | null) => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.setRawMode(false);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(typed.join(''));
    };
    const onEnd = () => finish(new Error('no password given'));
    const onData = (chunk: Buffer | string) => {
      const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
      for (const ch of text) {
        if (escape === 'esc') {
          escape = ch === '[' || ch === 'O' ? 'csi' : 'none';
          continue;
        }
        if (escape === 'csi') {
          if (ch >= '@' && ch <= '~') escape = 'none';
          continue;
        }
        if (ch === '\r' || ch === '\n') return finish(null);
        if (ch === '\u0003') return finish(new Error('cancelled'));
        if (ch === '\u0004') {
          if (typed.length === 0) return finish(new Error('no password given'));
          continue;
        }
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else if (ch === '\u0015') typed = [];
        else if (ch === '\u001b') escape = 'esc';
        else if (ch >= ' ') typed.push(ch);
      }
    };
    // Raw mode first: a key typed after the prompt appears is never echoed.
    input.setRawMode(true);
    output.write(prompt);
    input.on('data', onData);
    input.on('end', onEnd);
    input.resume();
  });
}

/**
 * A made-up instruction task whose preferences a rule decides, so that fine-tuning can be checked.
 *
 * Instruction: "Write a line as SPEAKER that mentions the WORD." Response: one line in a mock
 * Shakespearean style, from a few templates ("O gentle moon, thou art my joy."). The hidden rule
 * (followsRule): the response mentions WORD as a whole word. Preference pairs share the prompt and
 * the template; the chosen line uses WORD, the rejected one another word, so the only thing that
 * separates them is the rule the reward model has to learn.
 *
 * Everything is drawn from an Rng: the same seed gives the same data.
 */
import { Rng } from "../util/random.js";
import type { ChatMessage } from "./chat.js";

export const SPEAKERS = ["ROMEO", "JULIET", "HAMLET", "KING", "NURSE", "MERCUTIO"] as const;
export const WORDS = ["moon", "rose", "sword", "crown", "night", "sea", "star", "heart"] as const;
const OTHERS = ["joy", "grief", "honour", "life", "fortune", "soul"];
const TEMPLATES = [
  (w: string, o: string) => `O gentle ${w}, thou art my ${o}.`,
  (w: string, o: string) => `The ${w} doth speak of ${o} tonight.`,
  (w: string, o: string) => `I swear by the ${w} and by my ${o}.`,
  (w: string, o: string) => `What ${o} is this, that the ${w} should weep?`,
];

export interface Instruction {
  speaker: string;
  word: string;
  prompt: string;
}

export interface PreferencePair {
  instruction: Instruction;
  chosen: string;
  rejected: string;
}

/** A random instruction. */
export function drawInstruction(rng: Rng): Instruction {
  const speaker = SPEAKERS[rng.randint(0, SPEAKERS.length)];
  const word = WORDS[rng.randint(0, WORDS.length)];
  return { speaker: speaker, word: word, prompt: `Write a line as ${speaker} that mentions the ${word}.` };
}

/** A line in the task's style that mentions `word`. */
export function drawLine(rng: Rng, word: string): string {
  const template = TEMPLATES[rng.randint(0, TEMPLATES.length)];
  return template(word, OTHERS[rng.randint(0, OTHERS.length)]);
}

/** The hidden rule: does the response mention the instruction's word (whole word, any case)? */
export function followsRule(instruction: Instruction, response: string): boolean {
  return new RegExp(`\\b${instruction.word}\\b`, "i").test(response);
}

/**
 * n SFT conversations: an instruction and an answer in the task's style. Demonstrations are
 * imperfect, as human ones are: only a fraction `followRate` (default 1) of the answers mention the
 * requested word, the others a random one, so that SFT alone learns the format but not the rule
 * reliably, and preference learning has something left to fix.
 */
export function sftConversations(n: number, seed: number, followRate = 1): ChatMessage[][] {
  if (!(followRate >= 0 && followRate <= 1)) throw new RangeError(`sftConversations: followRate must be in [0, 1], got ${followRate}`);
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const inst = drawInstruction(rng);
    const word = rng.random() < followRate ? inst.word : WORDS[rng.randint(0, WORDS.length)];
    return [
      { role: "user" as const, content: inst.prompt },
      { role: "assistant" as const, content: drawLine(rng, word) },
    ];
  });
}

/** n preference pairs: the same template and filler word, the requested word (chosen) or another one (rejected). */
export function preferencePairs(n: number, seed: number): PreferencePair[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const inst = drawInstruction(rng);
    const template = TEMPLATES[rng.randint(0, TEMPLATES.length)];
    const other = OTHERS[rng.randint(0, OTHERS.length)];
    const wrongWords = WORDS.filter((w) => w !== inst.word);
    const wrong = wrongWords[rng.randint(0, wrongWords.length)];
    return { instruction: inst, chosen: template(inst.word, other), rejected: template(wrong, other) };
  });
}

/** n instructions (held-out prompts for sampling and win rates). */
export function instructions(n: number, seed: number): Instruction[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => drawInstruction(rng));
}

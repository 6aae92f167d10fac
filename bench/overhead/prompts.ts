/**
 * The prompts every path is sent, in this order. Short openings in the demo model's register:
 * with a 256-token context they leave room for the default max_tokens, and greedy decoding
 * from them runs to max_tokens rather than stopping early, so every request does equal work.
 */
export const PROMPTS = [
  "Call me Ishmael. Some years ago",
  "The whale",
  "It was the Pequod, and",
  "Queequeg was a native of",
  "Captain Ahab stood upon the deck",
  "There she blows!",
  "Starbuck said to the mate",
  "The sea was calm and",
] as const;

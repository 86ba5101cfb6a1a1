/** The datasets the course uses: where they live publicly and how to verify them. */
export interface DatasetInfo {
  name: string;
  file: string;
  url: string;
  /** Pinned checksum; when absent it is recorded on first download (see checksums.ts). */
  sha256?: string;
  bytes?: number;
  description: string;
  /** Fetched only when named (`npm run data -- <name>`), never by default. */
  optional?: boolean;
}

export const DATASETS = {
  tinyshakespeare: {
    name: "tinyshakespeare",
    file: "tinyshakespeare.txt",
    url: "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
    sha256: "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
    bytes: 1115394,
    description: "40,000 lines of Shakespeare (char-rnn); lectures 7 and 8",
  },
  names: {
    name: "names",
    file: "names.txt",
    url: "https://raw.githubusercontent.com/karpathy/makemore/master/names.txt",
    sha256: "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d",
    bytes: 228145,
    description: "32,033 first names (makemore); lecture 2",
  },
  taylorswift: {
    name: "taylorswift",
    file: "taylorswift.txt",
    url: "https://raw.githubusercontent.com/karpathy/minbpe/master/tests/taylorswift.txt",
    sha256: "c2e39cb822d4ae0caac22152cefc306d466e31217a9c5524e493ad2b76792f57",
    bytes: 185768,
    description: "Taylor Swift's Wikipedia article (minbpe's test text); lecture 8",
  },
  chinchilla: {
    name: "chinchilla",
    file: "chinchilla_svg_extracted_data.csv",
    url: "https://raw.githubusercontent.com/epoch-research/analyzing-chinchilla/main/data/svg_extracted_data.csv",
    sha256: "193478df4e90f040016431996c45682659306840ecdadf83cfb9cd5ca0aa1b30",
    bytes: 23224,
    description: "Epoch AI's extraction of Chinchilla's figure 4 (245 runs: Model Size, Training FLOP, loss); lib/scaling's fits",
  },
  tinystories: {
    name: "tinystories",
    file: "TinyStories-valid.txt",
    url: "https://huggingface.co/datasets/roneneldan/TinyStories/resolve/main/TinyStories-valid.txt",
    description:
      "TinyStories validation split (about 19 MB of short children's stories); lecture 8, optional. " +
      "No checksum is pinned: its sha256 and size are recorded in data/checksums.json on first " +
      "download and every later load is verified against that record.",
    optional: true,
  },
  "hellaswag-val": {
    name: "hellaswag-val",
    file: "hellaswag_val.jsonl",
    url: "https://raw.githubusercontent.com/rowanz/hellaswag/master/data/hellaswag_val.jsonl",
    description:
      "HellaSwag validation set (10,042 examples, about 11 MB of jsonl); lib/eval's HellaSwag score, optional. " +
      "No checksum is pinned: it is recorded in data/checksums.json on first download.",
    optional: true,
  },
} satisfies Record<string, DatasetInfo>;

export type DatasetName = keyof typeof DATASETS;

export function datasetInfo(name: string): DatasetInfo {
  const info = (DATASETS as Record<string, DatasetInfo>)[name];
  if (!info) {
    throw new Error(`Unknown dataset "${name}". Known: ${Object.keys(DATASETS).join(", ")}`);
  }
  return info;
}

/** The datasets `npm run data` fetches when none is named: all but the optional ones. */
export function defaultDatasets(): string[] {
  return Object.values(DATASETS as Record<string, DatasetInfo>)
    .filter((info) => !info.optional)
    .map((info) => info.name);
}

/** The parts of NLP.js (https://github.com/axa-group/nlp.js) this project uses; the packages ship no types. */
declare module '@nlpjs/core' {
  export class BaseStemmer {
    setCurrent(value: string): void;
    getCurrent(): string;
    innerStem(): void;
    stemWord(word: string): string;
  }
  export interface Container {
    use(plugin: unknown): void;
    get(name: string): unknown;
  }
  export function containerBootstrap(): Promise<Container>;
}

declare module '@nlpjs/lang-uk' {
  import type { BaseStemmer } from '@nlpjs/core';
  export class StemmerUk extends BaseStemmer {}
  export class LangUk {}
}

declare module '@nlpjs/lang-en-min' {
  import type { BaseStemmer } from '@nlpjs/core';
  export class StemmerEn extends BaseStemmer {}
  export class LangEn {}
}

declare module '@nlpjs/neural' {
  /** One perceptron per intent over sparse features ({ feature: value }). */
  export class NeuralNetwork {
    constructor(settings?: { iterations?: number; errorThresh?: number; deltaErrorThresh?: number; learningRate?: number; momentum?: number; alpha?: number; log?: boolean });
    train(corpus: { input: Record<string, number>; output: Record<string, number> }[]): { error: number; iterations: number };
    run(input: Record<string, number>): Record<string, number> | undefined;
    toJSON(): unknown;
    fromJSON(json: unknown): void;
  }
}

declare module '@nlpjs/nlu' {
  import type { Container } from '@nlpjs/core';
  export class NluNeural {
    constructor(settings: { container: Container; locale: string; log?: boolean; spellCheck?: boolean; useNoneFeature?: boolean });
    train(corpus: { utterance: string; intent: string }[]): Promise<unknown>;
    process(utterance: string): Promise<{ classifications: { intent: string; score: number }[] }>;
  }
}

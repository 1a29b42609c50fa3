export declare const MIN_NODE: [number, number];
export declare function nodeVersionProblem(version: string): string | null;

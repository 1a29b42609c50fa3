export declare const SEMI_SPACE_MIB: number;
export declare const NO_PRETENURING: string;
export declare const INITIAL_OLD_SPACE_MIB: number;
export declare function youngGenerationArgs(argv: readonly string[], execArgv: readonly string[], nodeOptions: string | undefined): string[] | null;

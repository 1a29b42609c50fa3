export declare const SEMI_SPACE_MIB: number;
export declare function youngGenerationArgs(argv: readonly string[], execArgv: readonly string[], nodeOptions: string | undefined): string[] | null;

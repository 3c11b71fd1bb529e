export function buildInputsHash(root: string): string;
export const STAMP_PATH: string;

// placeholder entry replaced by the CLI implementation
export {};

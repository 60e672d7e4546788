/** Work in progress. */
export {}

// The part of jStat that cutover uses (the package ships no types).
declare module 'jstat' {
  const jstat: {
    jStat: {
      beta: { inv(p: number, alpha: number, beta: number): number };
      normal: { inv(p: number, mean: number, std: number): number };
    };
  };
  export default jstat;
}

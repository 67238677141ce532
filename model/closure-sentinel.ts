// The build checks that this file's function was given a `__closure` by ts-closure-transform.
// Without it, every captured name in code shipped to Beam workers is undefined at run time.
const captured = "closure transform ran";
export const closureSentinel = () => captured;

export const template = 'page-home';
export const title = 'home.heading';
export async function render() {}

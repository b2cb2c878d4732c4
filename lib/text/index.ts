/** Caption preprocessing for the text-guided (`_cap`) models. */
export { cleanCaption, preprocessCaption } from './clean_caption.js'
export { htmlToText, htmlUnescape } from './html.js'
export { fixText } from './ftfy.js'

// A QR code of `text`, drawn on a canvas 2d by uQRCode (npm `uqrcodejs`, built into miniprogram_npm by
// WeChat DevTools' 构建 npm). The matrix is made in JS; the canvas only paints it.
import UQRCode from 'uqrcodejs';

Component({
  properties: {
    text: { type: String, value: '' },
    size: { type: Number, value: 200 }, // px
  },
  data: { moduleCount: 0 },
  observers: {
    'text, size': function (text, size) { this.make(text, size); },
  },
  lifetimes: {
    ready() { this.paint(); },
  },
  methods: {
    make(text, size) {
      if (!text) { this.qr = null; this.setData({ moduleCount: 0 }); return; }
      const qr = new UQRCode();
      qr.data = text;
      qr.size = size;
      qr.margin = 8;
      qr.make();
      this.qr = qr;
      this.setData({ moduleCount: qr.moduleCount });
      this.paint();
    },
    paint() {
      const qr = this.qr;
      if (!qr || typeof this.createSelectorQuery !== 'function') return;
      this.createSelectorQuery().select('#qr').fields({ node: true, size: true }).exec((found) => {
        const canvas = found && found[0] && found[0].node;
        if (!canvas) return; // not laid out yet (or no canvas: a test's renderer)
        const ratio = (wx.getWindowInfo ? wx.getWindowInfo().pixelRatio : 2) || 2;
        canvas.width = qr.size * ratio;
        canvas.height = qr.size * ratio;
        const ctx = canvas.getContext('2d');
        ctx.scale(ratio, ratio);
        qr.canvasContext = ctx;
        qr.drawCanvas();
      });
    },
  },
});

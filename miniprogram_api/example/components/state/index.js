// What a list or a card shows while it loads, when it failed (the Chinese message) and when it is empty.
Component({
  properties: {
    loading: { type: Boolean, value: false },
    error: { type: String, value: '' },
    empty: { type: Boolean, value: false },
    emptyText: { type: String, value: '还没有内容' },
  },
});
